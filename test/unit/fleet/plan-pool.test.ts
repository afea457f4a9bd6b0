import {describe, expect, it} from 'vitest'
import {parseFleet} from '../../../src/fleet/load.js'
import {planPoolDown, planPoolUp, planReap, type PoolObservation, runnerRows, runnerTargets, selectPool} from '../../../src/fleet/plan/pool.js'
import {ALL_CAPS, ago, machine, NOW} from './cloud-fixtures.js'

const fleet = parseFleet(`version: 1
name: acme
providers:
  do: {type: digitalocean}
pools:
  ci: {provider: do, size: s-1vcpu-1gb, region: fra1, image: golden, max: 5, idle: 30m, tag: ci:runner, user: runner, port: 2222}
  arm: {provider: do, size: s-2vcpu-2gb, region: fra1, image: ubuntu-24-04-x64}
`, '/work/acme/fleet.yaml')

function obs(names: string[], o: Partial<PoolObservation> = {}): PoolObservation {
  return {pool: 'ci', provider: {name: 'do', type: 'digitalocean', capabilities: [...ALL_CAPS]}, runners: names.map(n => machine(n)), imageRef: '777', hourly: {}, lastUsed: {}, now: NOW, ...o}
}

describe('selectPool', () => {
  const one = parseFleet('version: 1\nproviders: {do: {type: digitalocean}}\npools: {ci: {provider: do, size: s, region: r, image: i}}\n', '/f/fleet.yaml')
  const none = parseFleet('version: 1\n', '/f/fleet.yaml')
  it.each([
    ['the only pool', one, undefined, 'ci'],
    ['a named pool', fleet, 'arm', 'arm'],
    ['two pools and no name', fleet, undefined, /declares 2 pools; say which one/],
    ['an unknown pool', fleet, 'gpu', /unknown pool "gpu"/],
    ['no pools', none, undefined, /declares no pools/],
  ] as const)('%s', (_name, f, name, expected) => {
    if (typeof expected === 'string') expect(selectPool(f, name)).toBe(expected)
    else expect(() => selectPool(f, name)).toThrow(expected)
  })
})

describe('planPoolUp', () => {
  it.each([
    ['from nothing', [], 3, {create: ['ci-1', 'ci-2', 'ci-3'], remove: [], keep: [], changes: 3}],
    ['fills gaps in the names first', ['ci-1', 'ci-3'], 4, {create: ['ci-2', 'ci-4'], keep: ['ci-1', 'ci-3'], changes: 2}],
    ['already there', ['ci-1', 'ci-2'], 2, {create: [], remove: [], changes: 0}],
    ['scales down highest first', ['ci-1', 'ci-2', 'ci-10', 'ci-3'], 2, {create: [], remove: [{name: 'ci-10'}, {name: 'ci-3'}], keep: ['ci-1', 'ci-2'], changes: 2}],
    ['to zero', ['ci-1'], 0, {remove: [{name: 'ci-1', id: '1001', address: '203.0.113.1'}], changes: 1}],
  ] as const)('%s', (_name, names, count, expected) => {
    expect(planPoolUp(fleet, 'acme', obs([...names]), {count})).toMatchObject(expected)
  })

  it('labels runners as the fleet\'s and the pool\'s, with the pool tag, and resolves the image', () => {
    const plan = planPoolUp(fleet, 'acme', obs([]), {count: 1, size: 's-2vcpu-4gb'})
    expect(plan).toMatchObject({labels: {fleet: 'acme', 'fleet-pool': 'ci', ci: 'runner'}, size: 's-2vcpu-4gb', image: 'golden', imageRef: '777', ssh: {port: 2222, user: 'runner'}})
  })

  it('ignores machines that are already being deleted', () => {
    const o = obs(['ci-1'])
    o.runners.push(machine('ci-2', {state: 'deleting'}))
    expect(planPoolUp(fleet, 'acme', o, {count: 2}).create).toEqual(['ci-2'])
  })

  it.each([
    ['more than the pool max', obs([]), 6, /pool ci may have at most 5 runners \(pools\.ci\.max\); 6 were asked for/],
    ['more than the account quota', obs(['ci-1'], {quota: 2}), 4, /can create 2 more machine\(s\) \(its droplet limit\), but pool ci needs 3 more for 4/],
    ['a provider without ssh keys', obs([], {provider: {name: 'do', type: 'digitalocean', capabilities: ['machines']}}), 1, /provider do \(digitalocean\) cannot create runners for pool ci: it has no sshKeys support/],
    ['a provider that creates no machines', obs([], {provider: undefined}), 1, /provider do cannot create runners for pool ci: it does not create machines/],
  ] as const)('refuses %s', (_name, o, count, message) => {
    expect(() => planPoolUp(fleet, 'acme', o, {count})).toThrow(message)
  })

  it('checks the quota only against what it creates', () => {
    expect(planPoolUp(fleet, 'acme', obs(['ci-1', 'ci-2'], {quota: 0}), {count: 2}).changes).toBe(0)
  })
})

describe('planPoolDown and planReap', () => {
  it('dist:down removes every runner', () => {
    expect(planPoolDown(fleet, 'acme', obs(['ci-2', 'ci-1'])).remove.map(r => r.name)).toEqual(['ci-2', 'ci-1'])
  })

  it.each([
    ['used recently', {createdAt: ago(120)}, ago(5), false],
    ['used long ago', {createdAt: ago(120)}, ago(45), true],
    ['never used, created long ago', {createdAt: ago(31)}, undefined, true],
    ['never used, just created', {createdAt: ago(2)}, undefined, false],
  ] as const)('reap: %s', (_name, m, lastUsed, reaped) => {
    const runner = machine('ci-1', m)
    const plan = planReap(fleet, 'acme', obs([], {runners: [runner], lastUsed: lastUsed ? {[runner.id]: lastUsed} : {}}))
    expect(plan.remove.map(r => r.name)).toEqual(reaped ? ['ci-1'] : [])
    if (reaped) expect(plan.remove[0].reason).toMatch(lastUsed ? /^idle 45m \(last used .*\) > 30m$/ : /^idle 31m \(never used\) > 30m$/)
  })
})

describe('runner rows and targets', () => {
  it('costs each runner by its hourly price and age', () => {
    const o = obs([], {runners: [machine('ci-1', {createdAt: ago(90)}), machine('ci-2', {type: 'big', createdAt: ago(30)})], hourly: {'s-1vcpu-1gb': 0.01}})
    expect(runnerRows(o).map(r => [r.name, r.ageMs / 60_000, r.hourly, r.costSoFar])).toEqual([['ci-1', 90, 0.01, 0.02], ['ci-2', 30, undefined, undefined]])
  })

  it('reaches running runners with an address over the pool\'s ssh settings', () => {
    const runners = [machine('ci-1'), machine('ci-2', {state: 'new', ipv4: undefined}), machine('ci-3', {ipv4: undefined})]
    expect(runnerTargets({ssh: {port: 2222, user: 'runner'}}, runners)).toEqual([
      {instance: '', host: 'ci-1', runtime: 'ssh', root: '.', bind: '203.0.113.1', ssh: {host: '203.0.113.1', port: 2222, user: 'runner', identityFile: undefined}}])
  })
})
