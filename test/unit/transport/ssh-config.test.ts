import {describe, expect, it} from 'vitest'
import {expandPath, matchPatterns, parseJumpSpec, parseSshConfig, resolveSshConfig} from '../../../src/transport/ssh-config.js'

const env = {home: '/home/ada', localUser: 'ada'}
const resolve = (text: string, alias: string) => resolveSshConfig(parseSshConfig(text), alias, env)

describe('matchPatterns', () => {
  it.each([
    ['web1', ['web*'], true],
    ['web12', ['web?'], false],
    ['web1', ['web?'], true],
    ['WEB1', ['web1'], true],
    ['db1', ['*', '!db*'], false],
    ['web1', ['*', '!db*'], true],
    ['db1', ['!db*'], false],
    ['a.b.c', ['a.b.*'], true],
    ['axb', ['a.b'], false],
  ])('%s against %j is %s', (name, patterns, expected) => {
    expect(matchPatterns(name, patterns)).toBe(expected)
  })
})

describe('resolveSshConfig', () => {
  const config = `
# fleet hosts
User global-user

Host web? !web9
  HostName %h.internal.example.com
  Port 2222
  IdentityFile ~/.ssh/web_key

Host web1
  User root
  Port 22
  ProxyJump bastion

Host bastion
  HostName=203.0.113.10
  User = jump
  IdentityAgent none

Host "quoted host" *
  Port 2200
  IdentityFile "%d/.ssh/id with space"
  ProxyJump none
`

  it('takes the first value of each option across matching blocks', () => {
    expect(resolve(config, 'web1')).toEqual({
      host: 'web1.internal.example.com',
      port: 2222,
      user: 'global-user',
      identityFiles: ['/home/ada/.ssh/web_key', '/home/ada/.ssh/id with space'],
      proxyJump: 'bastion',
      identityAgent: undefined,
    })
  })

  it('excludes a block when a negated pattern matches', () => {
    const r = resolve(config, 'web9')
    expect(r.host).toBe('web9')
    expect(r.port).toBe(2200)
  })

  it('accepts key=value and key = value, and IdentityAgent none', () => {
    expect(resolve(config, 'bastion')).toMatchObject({host: '203.0.113.10', user: 'global-user', identityAgent: 'none', proxyJump: undefined})
  })

  it('uses the alias itself when nothing sets HostName, and ProxyJump none means no jump', () => {
    expect(resolve(config, 'other')).toMatchObject({host: 'other', port: 2200, proxyJump: undefined})
  })

  it('ignores Match blocks except Match all, and bad ports', () => {
    const r = resolve('Match host web1\n  User nope\nMatch all\n  Port notanumber\n  User yes\n', 'web1')
    expect(r).toMatchObject({user: 'yes', port: undefined})
  })

  it('returns only the alias for an empty config', () => {
    expect(resolve('', 'x')).toEqual({host: 'x', port: undefined, user: undefined, identityFiles: [], proxyJump: undefined, identityAgent: undefined})
  })
})

describe('expandPath', () => {
  it('expands ~ and %d, %h, %r, %u, %%', () => {
    expect(expandPath('~/.ssh/%h_%r_%u%%', {home: '/root', host: 'web', user: 'deploy', localUser: 'ada'})).toBe('/root/.ssh/web_deploy_ada%')
    expect(expandPath('~', {home: '/root'})).toBe('/root')
    expect(expandPath('/x/~/%d', {home: '/root'})).toBe('/x/~//root')
  })
})

describe('parseJumpSpec', () => {
  it('parses user@host:port hops, aliases and IPv6', () => {
    expect(parseJumpSpec('bastion')).toEqual([{host: 'bastion', port: undefined, user: undefined}])
    expect(parseJumpSpec('ops@10.0.0.1:2222,ssh://root@[::1]:22,edge')).toEqual([
      {host: '10.0.0.1', port: 2222, user: 'ops'},
      {host: '::1', port: 22, user: 'root'},
      {host: 'edge', port: undefined, user: undefined},
    ])
  })

  it('rejects a malformed hop', () => {
    expect(() => parseJumpSpec('user@')).toThrow(/invalid ProxyJump hop/)
  })
})
