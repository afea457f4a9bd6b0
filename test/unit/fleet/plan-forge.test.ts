import {describe, expect, it} from 'vitest'
import {parseFleet} from '../../../src/fleet/load.js'
import {type ForgeObservation, forgeStatus, planForgeDown, planForgeUp} from '../../../src/fleet/plan/forge.js'
import {ALL_CAPS, machine, NOW, snapshot} from './cloud-fixtures.js'

const fleet = (keep = 2) => parseFleet(`version: 1
name: acme
providers: {hz: {type: hetzner}}
forge: {provider: hz, name: forge, size: cx22, region: fsn1, image: ubuntu-24.04, alias: git.acme.dev, keep: ${keep}}
`, '/work/acme/fleet.yaml')

const labels = {fleet: 'acme', 'fleet-forge': 'forge'}
const running = machine('forge', {labels, type: 'cx22', region: 'fsn1', ipv4: '198.51.100.7'})

function obs(o: Partial<ForgeObservation> = {}): ForgeObservation {
  return {provider: {name: 'hz', type: 'hetzner', capabilities: [...ALL_CAPS]}, snapshots: [], now: NOW, ...o}
}

describe('planForgeUp', () => {
  it.each([
    ['nothing to do while it runs', obs({machine: running}), {action: 'none', changes: 0, machine: {id: running.id, address: '198.51.100.7'}}],
    ['restores the newest snapshot', obs({snapshots: [snapshot('forge-2', 60), snapshot('forge-1', 600)]}), {action: 'restore', image: 's-forge-2', snapshot: {name: 'forge-2'}, changes: 1}],
    ['creates from the base image without a snapshot', obs(), {action: 'create', image: 'ubuntu-24.04', changes: 1}],
  ] as const)('%s', (_name, o, expected) => {
    expect(planForgeUp(fleet(), 'acme', o)).toMatchObject({...expected, forge: 'forge', alias: 'git.acme.dev', labels, size: 'cx22', region: 'fsn1', ssh: {port: 22, user: 'root'}})
  })

  it.each([
    ['a provider without snapshots', obs({provider: {name: 'hz', type: 'hetzner', capabilities: ['machines', 'sshKeys']}}), /provider hz \(hetzner\) cannot host the forge: it has no snapshots support/],
    ['a stranger holding the name', obs({stranger: machine('forge', {id: '42', labels: {team: 'x'}})}), /a machine named forge \(id 42\) exists on hz but is not this fleet's forge \(team=x\)/],
  ] as const)('refuses %s', (_name, o, message) => {
    expect(() => planForgeUp(fleet(), 'acme', o)).toThrow(message)
  })
})

describe('planForgeDown', () => {
  it('snapshots under a timestamped name, then keeps the newest `keep` including the new one', () => {
    const snaps = [snapshot('forge-3', 10), snapshot('forge-2', 20), snapshot('forge-1', 30)]
    expect(planForgeDown(fleet(2), 'acme', obs({machine: running, snapshots: snaps}))).toMatchObject({
      action: 'park', snapshotName: 'forge-20260301-120000', machine: {id: running.id}, prune: [{name: 'forge-2'}, {name: 'forge-1'}], changes: 1})
    expect(planForgeDown(fleet(1), 'acme', obs({machine: running, snapshots: snaps})).prune.map(s => s.name)).toEqual(['forge-3', 'forge-2', 'forge-1'])
    expect(planForgeDown(fleet(5), 'acme', obs({machine: running, snapshots: snaps})).prune).toEqual([])
  })

  it('has nothing to do when the forge is parked', () => {
    expect(planForgeDown(fleet(), 'acme', obs({snapshots: [snapshot('forge-1', 5)]}))).toMatchObject({action: 'none', changes: 0, snapshot: {name: 'forge-1'}})
  })
})

describe('forgeStatus', () => {
  it('prices both states: machine plus stored snapshots while up, the snapshots alone while parked', () => {
    const s = forgeStatus(fleet(), obs({machine: running, snapshots: [snapshot('forge-1', 90)], prices: {machineMonthly: 4.51, snapshotsMonthly: 0.12, currency: 'EUR'}}))
    expect(s).toMatchObject({state: 'up', address: '198.51.100.7', alias: 'git.acme.dev', monthly: {up: 4.63, parked: 0.12, currency: 'EUR'}, snapshots: [{name: 'forge-1', ageMs: 90 * 60_000}]})
    expect(forgeStatus(fleet(), obs({snapshots: [snapshot('forge-1', 90)]})).state).toBe('parked')
    expect(forgeStatus(fleet(), obs()).state).toBe('absent')
  })
})
