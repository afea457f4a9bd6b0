import {describe, expect, it} from 'vitest'
import {createDigitalOcean} from '../../src/providers/digitalocean/index.js'
import {Secret} from '../../src/secret.js'
import {assertNoViolations} from '../helpers/openapi-validator.js'
import {startFakeDigitalOcean} from '../helpers/fake-digitalocean.js'
import type {FakeDigitalOcean, FakeDigitalOceanOptions} from '../helpers/fake-digitalocean.js'
import {providerContract, virtualClock} from './provider-contract.js'

const make = (fake: FakeDigitalOcean, deps = {}, token?: Secret) =>
  createDigitalOcean({name: 'digitalocean', token: token ?? new Secret(fake.token, 'DIGITALOCEAN_TOKEN'), endpoint: fake.endpoint}, deps)

providerContract('digitalocean', make, () => startFakeDigitalOcean({maxPerPage: 2}), {
  tokenEnv: 'DIGITALOCEAN_TOKEN',
  machine: {type: 's-1vcpu-1gb', region: 'fra1', image: 'ubuntu-24-04-x64', sshKeys: []},
  paths: {list: /^\/v2\/droplets$/, create: /^\/v2\/droplets$/},
  badRequest: {method: 'POST', path: '/v2/droplets', body: {names: ['bad_name!'], size: 's-1vcpu-1gb', image: 'ubuntu-24-04-x64'}, field: 'names'},
})

describe('digitalocean adapter specifics', () => {
  async function withFake(opts: FakeDigitalOceanOptions, fn: (fake: FakeDigitalOcean) => Promise<void>) {
    const fake = await startFakeDigitalOcean(opts)
    try {
      await fn(fake)
      assertNoViolations(fake)
    } finally {
      await fake.close()
    }
  }
  const spec = (name: string) => ({name, type: 's-1vcpu-1gb', region: 'nyc3', image: 'ubuntu-24-04-x64', sshKeys: [], labels: {pool: 'dist'}})

  it('creates at most 10 droplets per request and gives them the addresses a test chooses', () =>
    withFake({addressPool: (_name, i) => `127.0.0.${100 + i}`, maxPerPage: 5, dropletLimit: 50}, async fake => {
      const p = make(fake, {clock: virtualClock()})
      const names = Array.from({length: 12}, (_, i) => `runner-${i + 1}`)
      const ms = await p.machines!.create(names.map(spec))
      expect(fake.requests.filter(r => r.method === 'POST').length).toBe(2)
      expect(new Set(ms.map(m => m.ipv4)).size).toBe(12)
      expect(ms.every(m => m.ipv4!.startsWith('127.0.0.'))).toBe(true)
      expect(await p.machines!.list({labels: {pool: 'dist'}})).toHaveLength(12)
      expect(await p.machines!.remainingQuota!()).toBe(38)
    }))

  it('reports the droplet limit as PROVIDER_INVALID with the API message', () =>
    withFake({dropletLimit: 1}, async fake => {
      const p = make(fake, {clock: virtualClock()})
      const e = await p.machines!.create([spec('a'), spec('b')]).catch((error: unknown) => error)
      expect(e).toMatchObject({info: {code: 'PROVIDER_INVALID', status: 422}})
      expect((e as Error).message).toContain('droplet limit')
    }))

  it('maps labels to key:value tags and back', () =>
    withFake({}, async fake => {
      const p = make(fake, {clock: virtualClock()})
      await p.machines!.create([{...spec('t-1'), labels: {pool: 'dist', arch: 'x86', spare: ''}}])
      expect([...fake.droplets.values()][0].tags).toEqual(['pool:dist', 'arch:x86', 'spare'])
      expect((await p.machines!.list({labels: {arch: 'x86'}}))[0].labels).toEqual({pool: 'dist', arch: 'x86', spare: ''})
    }))
})
