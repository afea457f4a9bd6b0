import {randomBytes} from 'node:crypto'
import {createServer} from 'node:net'
import type {AddressInfo} from 'node:net'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ProviderError} from '../../src/errors.js'
import {capabilitiesOf} from '../../src/providers/types.js'
import type {MachineSpec, Provider, ProviderDeps} from '../../src/providers/types.js'
import {Secret} from '../../src/secret.js'
import type {Fault, RecordedRequest} from '../helpers/openapi-validator.js'
import {assertNoViolations} from '../helpers/openapi-validator.js'

/** What the contract needs from a fake API. */
export interface ContractFake {
  endpoint: string
  token: string
  violations: string[]
  /** False when ../shared/specs is absent and the fake runs unchecked. */
  specChecked: boolean
  requests: RecordedRequest[]
  failNext(fault: Fault): void
  failSnapshot(): void
  takeViolations(): string[]
  close(): Promise<void>
}

/** Facts about one provider the shared checks need. */
export interface ContractFacts {
  tokenEnv: string
  /** A machine the fake accepts, minus name and labels. */
  machine: Omit<MachineSpec, 'name' | 'labels'>
  /** Paths (without the API prefix) of the list and create calls. */
  paths: {list: RegExp; create: RegExp}
  /** A request the provider's spec forbids; the fake must record it as a violation. */
  badRequest: {method: string; path: string; body: unknown; field: string}
}

export type MakeProvider<F> = (fake: F, deps: ProviderDeps, token?: Secret) => Provider

/** A clock whose sleeps return at once and move `now` forward, recording how long each would have been. */
export function virtualClock() {
  let offset = 0
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => Date.now() + offset,
    async sleep(ms: number, signal?: AbortSignal) {
      sleeps.push(ms)
      offset += ms
      await new Promise(resolve => setImmediate(resolve))
      signal?.throwIfAborted()
    },
  }
}

export const testKey = () => `ssh-ed25519 ${Buffer.concat([Buffer.from('\0\0\0\x0bssh-ed25519\0\0\0 '), randomBytes(32)]).toString('base64')} fleet@test`

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise(resolve => server.close(resolve))
  return port
}

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const e = await p.then(() => undefined, (error: unknown) => error)
  expect(e).toBeInstanceOf(ProviderError)
  return e as ProviderError
}

/** The shared checks every machine provider passes, run with its real client against a stateful fake (unstorage testDriver). */
export function providerContract<F extends ContractFake>(name: string, makeProvider: MakeProvider<F>, makeFake: () => Promise<F>, facts: ContractFacts): void {
  describe(`${name} provider contract`, () => {
    let fake: F
    let clock: ReturnType<typeof virtualClock>
    let p: Provider
    const labels = {pool: 'contract'}
    const spec = (n: string): MachineSpec => ({...facts.machine, name: n, labels})
    const count = (method: string, path: RegExp) => fake.requests.filter(r => r.method === method && path.test(r.path)).length

    beforeEach(async () => {
      fake = await makeFake()
      clock = virtualClock()
      p = makeProvider(fake, {clock})
    })

    afterEach(async () => {
      try {
        assertNoViolations(fake)
      } finally {
        await fake.close()
      }
    })

    it('declares its capabilities by the sub-objects it has', () => {
      expect([...p.capabilities].sort()).toEqual(['cost', 'machines', 'snapshots', 'sshKeys'])
      const {snapshots: _, ...withoutSnapshots} = p
      expect(capabilitiesOf(withoutSnapshots).has('snapshots')).toBe(false)
      expect(capabilitiesOf(withoutSnapshots).has('machines')).toBe(true)
    })

    it('creates by name idempotently and returns running machines with an address', async () => {
      const [first] = await p.machines!.create([spec('web-1')])
      expect(first).toMatchObject({name: 'web-1', state: 'running', labels})
      expect(first.ipv4).toMatch(/^\d+\.\d+\.\d+\.\d+$/)
      const [again] = await p.machines!.create([spec('web-1')])
      expect(again.id).toBe(first.id)
      expect(await p.machines!.list({labels})).toHaveLength(1)
      expect(count('POST', facts.paths.create)).toBe(1)
      expect(await p.machines!.get('web-1')).toMatchObject({id: first.id})
      expect(await p.machines!.get(first.id)).toMatchObject({name: 'web-1'})
    })

    it('lists every page after a create of more than one page', async () => {
      const names = ['pool-1', 'pool-2', 'pool-3', 'pool-4', 'pool-5']
      await p.machines!.create(names.map(spec))
      const listed = await p.machines!.list({labels})
      expect(listed.map(m => m.name).sort()).toEqual(names)
      expect(fake.requests.some(r => facts.paths.list.test(r.path) && /[?&]page=3/.test(r.search))).toBe(true)
      await p.machines!.create(names.map(spec))
      expect(await p.machines!.list({labels})).toHaveLength(5)
      expect(await p.machines!.list({labels: {pool: 'other'}})).toEqual([])
    })

    it('deletes, and deleting a missing machine is a no-op', async () => {
      const [m] = await p.machines!.create([spec('gone-1')])
      await p.machines!.delete(m.id)
      expect(await p.machines!.get(m.id)).toBeUndefined()
      await expect(p.machines!.delete(m.id)).resolves.toBeUndefined()
      await expect(p.machines!.delete('987654321')).resolves.toBeUndefined()
      expect(await p.status({kind: 'machine', name: 'gone-1'}, undefined)).toMatchObject({exists: false})
    })

    it('turns a 401 into PROVIDER_AUTH naming the env var and never the token', async () => {
      const token = new Secret('wrong-token-7f3a9c1e5b', facts.tokenEnv)
      const bad = makeProvider(fake, {clock}, token)
      const e = await failure(bad.machines!.list({}))
      expect(e.info.code).toBe('PROVIDER_AUTH')
      expect(e.message).toContain(facts.tokenEnv)
      const everything = `${e.message} ${e.info.hint} ${String((e as {cause?: unknown}).cause)} ${JSON.stringify(e.info)}`
      expect(everything).not.toContain(token.reveal())
      expect(clock.sleeps).toEqual([])
    })

    it('waits as long as Retry-After says on a 429', async () => {
      fake.failNext({method: 'GET', path: facts.paths.list, status: 429, retryAfter: 3})
      expect(await p.machines!.list({labels})).toEqual([])
      expect(clock.sleeps).toHaveLength(1)
      expect(clock.sleeps[0]).toBe(3000)
      expect(fake.requests.filter(r => facts.paths.list.test(r.path)).map(r => r.status)).toEqual([429, 200])
    })

    it('reads Retry-After as an HTTP date too', async () => {
      fake.failNext({method: 'GET', path: facts.paths.list, status: 429, retryAfter: new Date(Date.now() + 3000).toUTCString()})
      await p.machines!.list({labels})
      expect(clock.sleeps[0]).toBeGreaterThan(1900)
      expect(clock.sleeps[0]).toBeLessThanOrEqual(3000)
    })

    it('waits for RateLimit-Reset on a 429 without Retry-After', async () => {
      fake.failNext({method: 'GET', path: facts.paths.list, status: 429, resetIn: 5})
      await p.machines!.list({labels})
      expect(clock.sleeps[0]).toBeGreaterThan(3900)
      expect(clock.sleeps[0]).toBeLessThanOrEqual(5000)
    })

    it('retries a 5xx on a GET', async () => {
      fake.failNext({method: 'GET', path: facts.paths.list, status: 503, times: 2})
      expect(await p.machines!.list({labels})).toEqual([])
      expect(fake.requests.filter(r => facts.paths.list.test(r.path)).map(r => r.status)).toEqual([503, 503, 200])
    })

    it('gives up on a GET that keeps failing with PROVIDER_UNAVAILABLE', async () => {
      fake.failNext({method: 'GET', path: facts.paths.list, status: 500, times: 10})
      const e = await failure(p.machines!.list({labels}))
      expect(e.info.code).toBe('PROVIDER_UNAVAILABLE')
      expect(e.info.status).toBe(500)
    })

    it('reports an unreachable API as PROVIDER_UNAVAILABLE after retrying', async () => {
      const lines: string[] = []
      const offline = makeProvider({...fake, token: fake.token, endpoint: `http://127.0.0.1:${await closedPort()}`} as F, {clock, log: l => lines.push(l)})
      const e = await failure(offline.machines!.list({}))
      expect(e.info.code).toBe('PROVIDER_UNAVAILABLE')
      expect(e.message).toContain('unreachable (ECONNREFUSED)')
      expect(clock.sleeps).toHaveLength(4)
      expect(lines[0]).toMatch(/retrying in \d/)
    })

    it('does not retry a failed POST, and a re-run converges', async () => {
      fake.failNext({method: 'POST', path: facts.paths.create, status: 503})
      const e = await failure(p.machines!.create([spec('once-1')]))
      expect(e.info.code).toBe('PROVIDER_UNAVAILABLE')
      expect(count('POST', facts.paths.create)).toBe(1)
      await p.machines!.create([spec('once-1')])
      expect(await p.machines!.list({labels})).toHaveLength(1)
    })

    it('finds a machine by name when the create response was lost', async () => {
      fake.failNext({method: 'POST', path: facts.paths.create, status: 502, afterApply: true})
      const [m] = await p.machines!.create([spec('lost-1')])
      expect(m).toMatchObject({name: 'lost-1', state: 'running'})
      expect(count('POST', facts.paths.create)).toBe(1)
      expect(await p.machines!.list({labels})).toHaveLength(1)
    })

    it('snapshots a machine, waits for it, finds it by labels and name, and deletes it', async () => {
      const [m] = await p.machines!.create([spec('forge-1')])
      const snap = await p.snapshots!.create(m.id, 'forge-2026-01-01', {role: 'forge'})
      expect(snap).toMatchObject({name: 'forge-2026-01-01', labels: {role: 'forge'}})
      expect(snap.sizeGb).toBeGreaterThan(0)
      expect((await p.snapshots!.create(m.id, 'forge-2026-01-01', {role: 'forge'})).id).toBe(snap.id)
      expect((await p.snapshots!.list({labels: {role: 'forge'}})).map(s => s.id)).toEqual([snap.id])
      expect(await p.snapshots!.list({namePrefix: 'forge-'})).toHaveLength(1)
      expect(await p.snapshots!.list({labels: {role: 'other'}})).toEqual([])
      await p.snapshots!.delete(snap.id)
      await expect(p.snapshots!.delete(snap.id)).resolves.toBeUndefined()
      expect(await p.snapshots!.list({})).toEqual([])
    })

    it('throws when the snapshot action ends in error', async () => {
      const [m] = await p.machines!.create([spec('forge-2')])
      fake.failSnapshot()
      const e = await failure(p.snapshots!.create(m.id, 'broken', {}))
      expect(e.info.code).toBe('PROVIDER_ACTION_FAILED')
      expect(await p.snapshots!.list({namePrefix: 'broken'})).toEqual([])
    })

    it('uploads an ssh key once', async () => {
      const key = testKey()
      const id = await p.sshKeys!.ensure('deploy', key)
      expect(await p.sshKeys!.ensure('deploy', key.replace('fleet@test', 'other comment'))).toBe(id)
      expect(count('POST', /keys$/)).toBe(1)
    })

    it('prices a machine type and a snapshot', async () => {
      const price = await p.cost!.monthly(facts.machine.type, facts.machine.region)
      expect(price?.monthly).toBeGreaterThan(0)
      expect(price?.hourly).toBeGreaterThan(0)
      expect(await p.cost!.monthly('no-such-type', facts.machine.region)).toBeUndefined()
      expect(await p.cost!.snapshotMonthly!(10)).toBeGreaterThan(0)
    })

    it('reports status by name', async () => {
      const [m] = await p.machines!.create([spec('status-1')])
      expect(await p.status({kind: 'machine', name: 'status-1'})).toMatchObject({exists: true, state: 'running', detail: {id: m.id}})
    })

    it('has a fake that records a request its spec forbids', async ({skip}) => {
      if (!fake.specChecked) skip('the provider spec is not available here')
      const res = await fetch(new URL(facts.badRequest.path, fake.endpoint.replace(/\/v\d$/, '')), {
        method: facts.badRequest.method,
        headers: {authorization: `Bearer ${fake.token}`, 'content-type': 'application/json'},
        body: JSON.stringify(facts.badRequest.body),
      })
      expect([400, 422]).toContain(res.status)
      const seen = fake.takeViolations()
      expect(seen.join('\n')).toContain(facts.badRequest.field)
    })
  })
}
