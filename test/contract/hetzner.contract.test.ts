import {describe, expect, it} from 'vitest'
import {createHetzner} from '../../src/providers/hetzner/index.js'
import {Secret} from '../../src/secret.js'
import {assertNoViolations} from '../helpers/openapi-validator.js'
import {startFakeHetzner} from '../helpers/fake-hetzner.js'
import type {FakeHetzner, FakeHetznerOptions} from '../helpers/fake-hetzner.js'
import {providerContract, virtualClock} from './provider-contract.js'

const make = (fake: FakeHetzner, deps = {}, token?: Secret) =>
  createHetzner({name: 'hetzner', token: token ?? new Secret(fake.token, 'HCLOUD_TOKEN'), endpoint: fake.endpoint}, deps)

providerContract('hetzner', make, () => startFakeHetzner({maxPerPage: 2}), {
  tokenEnv: 'HCLOUD_TOKEN',
  machine: {type: 'cx22', region: 'fsn1', image: 'ubuntu-24.04', sshKeys: []},
  paths: {list: /^\/servers$/, create: /^\/servers$/},
  badRequest: {method: 'POST', path: '/v1/servers', body: {name: 'bad-1', server_type: 123, image: 'ubuntu-24.04'}, field: 'server_type'},
})

describe('hetzner adapter specifics', () => {
  async function withFake(opts: FakeHetznerOptions, fn: (fake: FakeHetzner) => Promise<void>) {
    const fake = await startFakeHetzner(opts)
    try {
      await fn(fake)
      assertNoViolations(fake)
    } finally {
      await fake.close()
    }
  }
  const spec = {type: 'cx22', region: 'nbg1', image: 'ubuntu-24.04', sshKeys: [], labels: {pool: 'dist'}}

  it('gives servers the addresses a test chooses, with and without IPv6', () =>
    withFake({addressPool: ['127.0.0.21', '127.0.0.22'], ipv6: true}, async fake => {
      const p = make(fake, {clock: virtualClock()})
      const ms = await p.machines!.create([{...spec, name: 'a'}, {...spec, name: 'b'}])
      expect(ms.map(m => m.ipv4).sort()).toEqual(['127.0.0.21', '127.0.0.22'])
      expect(ms[0].ipv6).toMatch(/::\/64$/)
      expect(ms[0]).toMatchObject({region: 'nbg1', type: 'cx22', monthly: expect.any(Number)})
    }))

  it('passes a server type the API does not know back as PROVIDER_INVALID with its message', () =>
    withFake({}, async fake => {
      const p = make(fake, {clock: virtualClock()})
      const e = await p.machines!.create([{...spec, name: 'c', type: 'cx999'}]).catch((error: unknown) => error)
      expect(e).toMatchObject({info: {code: 'PROVIDER_INVALID', status: 422}})
      expect((e as Error).message).toContain("invalid_input (invalid input in field 'server_type'")
    }))

  it('finishes actions by time as well as by polls', () =>
    withFake({actionPolls: 1000, actionMs: 50}, async fake => {
      const p = make(fake, {})
      const [m] = await p.machines!.create([{...spec, name: 'slow'}])
      expect(m.state).toBe('running')
    }))
})
