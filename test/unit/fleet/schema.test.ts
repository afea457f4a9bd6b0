import {describe, expect, it} from 'vitest'
import {fleetSchema, healthSchema, instanceSchema, providerSchema, serviceSchema, toMs} from '../../../src/fleet/schema.js'

const service = {start: 'node server.js', port: 8080}
const instance = {runtime: 'local', release: {source: './app'}, services: {web: service}}

describe('fleetSchema', () => {
  it('fills in the documented defaults', () => {
    const spec = fleetSchema.parse({version: 1, instances: {web: instance}})
    expect(spec.providers).toEqual({})
    expect(spec.hosts).toEqual({})
    expect(spec.instances.web.release.keep).toBe(5)
    expect(spec.instances.web.services.web).toEqual({...service, replicas: 1, health: {path: '/health', expect: 200, timeout: '5s', interval: '200ms', grace: '15s'}})
  })

  it('fills in health defaults for the keys left out', () => {
    expect(healthSchema.parse({path: '/ready'})).toEqual({path: '/ready', expect: 200, timeout: '5s', interval: '200ms', grace: '15s'})
  })

  it.each([
    ['the top level', {version: 1, instance: {}}],
    ['a provider', {version: 1, providers: {hz: {type: 'hetzner', tokn: 'vault:x'}}}],
    ['a host', {version: 1, hosts: {a: {provider: 'lab', adress: 'x'}}}],
    ['a service', {version: 1, instances: {web: {...instance, services: {web: {...service, replica: 2}}}}}],
    ['a health check', {version: 1, instances: {web: {...instance, services: {web: {...service, health: {timout: '1s'}}}}}}],
    ['a release', {version: 1, instances: {web: {...instance, release: {source: '.', sorce: '.'}}}}],
    ['the ssh settings', {version: 1, ssh: {knownhosts: 'x'}}],
  ])('rejects unknown keys in %s', (_, doc) => {
    const result = fleetSchema.safeParse(doc)
    expect(result.success).toBe(false)
    expect(result.error!.issues.map(i => i.code)).toEqual(['unrecognized_keys'])
  })

  it.each(['${env:HCLOUD_TOKEN}', 'vault:hcloud', 'vault:do-token.v2'])('accepts the token reference %s', token => {
    expect(providerSchema.safeParse({type: 'hetzner', token}).success).toBe(true)
  })

  it.each(['hc_0123456789', '$HCLOUD_TOKEN', '${HCLOUD_TOKEN}', '${env:}', 'vault:', 'env:HCLOUD_TOKEN'])('rejects %s as a token', token => {
    expect(providerSchema.safeParse({type: 'hetzner', token}).success).toBe(false)
  })

  it.each([['web-1', true], ['1', true], ['web_1', false], ['Web-1', false], ['-web', false], ['a'.repeat(63), true], ['a'.repeat(64), false]])('name %s valid: %s', (name, ok) => {
    expect(fleetSchema.safeParse({version: 1, hosts: {[name]: {provider: 'lab'}}}).success).toBe(ok)
  })

  it.each([[1, true], [4, true], ['1%', true], ['50%', true], ['100%', true], [0, false], ['0%', false], ['101%', false], ['150%', false], ['half', false], [1.5, false]])('rollout.boot %s valid: %s', (boot, ok) => {
    expect(instanceSchema.safeParse({...instance, rollout: {boot}}).success).toBe(ok)
  })

  it.each([['30s', true], ['500ms', true], ['5m', true], ['1h', true], [10, true], [0, true], ['soon', false], ['1.5s', false], ['5 s', false], [-1, false], ['10d', false]])('duration %s valid: %s', (timeout, ok) => {
    expect(healthSchema.safeParse({timeout}).success).toBe(ok)
  })

  it.each([[0, false], [1, true], [65535, true], [65536, false], ['8080', false], [80.5, false]])('port %s valid: %s', (port, ok) => {
    expect(serviceSchema.safeParse({...service, port}).success).toBe(ok)
  })

  it('needs at least one service', () => {
    expect(instanceSchema.safeParse({...instance, services: {}}).success).toBe(false)
  })

  it('takes a command as a string or a non-empty list of arguments', () => {
    const migrate = (command: unknown) => instanceSchema.safeParse({...instance, migrate: {command}}).success
    expect([migrate('npm run migrate'), migrate(['npm', 'run', 'migrate']), migrate([]), migrate(''), migrate(3)]).toEqual([true, true, false, false, false])
  })
})

describe('toMs', () => {
  it.each([['500ms', 500], ['30s', 30_000], ['5m', 300_000], ['1h', 3_600_000], [2, 2000]])('%s is %i ms', (d, ms) => {
    expect(toMs(d)).toBe(ms)
  })
})
