import {describe, expect, it} from 'vitest'
import {parseFleet} from '../../../src/fleet/load.js'
import {type HostObservation, planDecommission, planProvision} from '../../../src/fleet/plan/provision.js'
import {ALL_CAPS, machine} from './cloud-fixtures.js'

const fleet = parseFleet(`version: 1
providers: {do: {type: digitalocean}, lab: {type: ssh}}
hosts:
  web-1: {provider: do, type: s-1vcpu-1gb, region: fra1, image: ubuntu-24-04-x64, user: deploy, port: 2200}
  web-2: {provider: do, type: s-1vcpu-1gb, region: fra1, image: ubuntu-24-04-x64}
  half: {provider: do, type: s-1vcpu-1gb}
  pi: {provider: lab, address: 192.0.2.1}
`, '/work/acme/fleet.yaml')

const facts = {name: 'do', type: 'digitalocean', capabilities: [...ALL_CAPS]}
const ours = (host: string) => machine(host, {labels: {fleet: 'acme', 'fleet-host': host}})
const o = (host: string, extra: Partial<HostObservation> = {}): HostObservation => ({host, provider: fleet.spec.hosts[host].provider, facts, ...extra})

describe('planProvision', () => {
  it('creates what is missing and keeps what exists, with each host\'s ssh settings', () => {
    const plan = planProvision(fleet, [o('web-1'), o('web-2', {machine: ours('web-2')})])
    expect(plan).toMatchObject({changes: 1, targets: [
      {host: 'web-1', action: 'create', type: 's-1vcpu-1gb', region: 'fra1', image: 'ubuntu-24-04-x64', ssh: {port: 2200, user: 'deploy'}},
      {host: 'web-2', action: 'exists', id: '1002', address: '203.0.113.2', ssh: {port: 22, user: 'root'}}]})
  })

  it('reports every problem at once: missing machine fields and names held by strangers', () => {
    const stranger = machine('web-1', {id: '9', labels: {owner: 'bob'}})
    expect(() => planProvision(fleet, [o('web-1', {stranger}), o('half')])).toThrow(
      'cannot provision:\n  do already has a machine named web-1 (id 9, owner=bob) that is not this fleet\'s\n  hosts.half: a digitalocean host needs region, image')
  })

  it('refuses a host whose provider creates no machines', () => {
    expect(() => planProvision(fleet, [o('pi', {facts: undefined})])).toThrow('provider lab cannot create host pi: it does not create machines')
  })
})

describe('planDecommission', () => {
  it.each([
    ['deletes the labeled machine', o('web-1', {machine: ours('web-1')}), {action: 'delete', machine: {id: '1001', address: '203.0.113.1'}, changes: 1}],
    ['has nothing to delete', o('web-1'), {action: 'none', changes: 0}],
    ['deletes ours even when a stranger shares the name', o('web-1', {machine: ours('web-1'), stranger: machine('web-1', {id: '9'})}), {action: 'delete', machine: {id: '1001'}}],
  ] as const)('%s', (_name, obs, expected) => {
    expect(planDecommission('web-1', obs)).toMatchObject(expected)
  })

  it('never touches a machine without this fleet\'s labels', () => {
    expect(() => planDecommission('web-1', o('web-1', {stranger: machine('web-1', {id: '9', labels: {fleet: 'other', 'fleet-host': 'web-1'}})})))
      .toThrow('refusing to decommission web-1: the machine named web-1 on do (id 9) is not this fleet\'s (fleet=other, fleet-host=web-1)')
  })
})
