import {describe, expect, it} from 'vitest'
import {checkInventory, emptyInventory, entryFor, type Inventory, parseInventory, renderSshConfig, syncScope} from '../../../src/fleet/inventory.js'
import {parseFleet} from '../../../src/fleet/load.js'
import {machine} from './cloud-fixtures.js'

const fleet = parseFleet(`version: 1
name: acme
providers: {do: {type: digitalocean}}
hosts: {web-1: {provider: do, type: s, region: fra1, image: i}}
pools: {ci: {provider: do, size: s, region: fra1, image: i}}
forge: {provider: do, name: forge, size: s, region: fra1, image: i}
`, '/work/acme/fleet.yaml')

const runner = (name: string, o = {}) => entryFor(machine(name, o), {role: 'runner', pool: 'ci', provider: 'do', port: 22, user: 'root'})

describe('inventory', () => {
  it('syncs one scope to what was observed, keeping when each runner was last used', () => {
    const inv = emptyInventory('acme')
    syncScope(inv, {role: 'runner', pool: 'ci'}, [runner('ci-1'), runner('ci-2')])
    syncScope(inv, {role: 'host', name: 'web-1'}, [entryFor(machine('web-1'), {role: 'host', provider: 'do', port: 22, user: 'root'})])
    inv.machines.find(m => m.name === 'ci-1')!.lastUsedAt = '2026-03-01T00:00:00.000Z'
    syncScope(inv, {role: 'runner', pool: 'ci'}, [runner('ci-1', {ipv4: '203.0.113.99'}), runner('ci-3')])
    expect(inv.machines.map(m => [m.role, m.name, m.address, m.lastUsedAt])).toEqual([
      ['host', 'web-1', '203.0.113.1', undefined], ['runner', 'ci-1', '203.0.113.99', '2026-03-01T00:00:00.000Z'], ['runner', 'ci-3', '203.0.113.3', undefined]])
  })

  it('writes a Host block per machine, the forge under its alias', () => {
    const inv: Inventory = {...emptyInventory('acme'), machines: [entryFor(machine('forge'), {role: 'forge', provider: 'do', port: 2222, user: 'git', identity: '/k/id'}), runner('ci-1', {ipv4: undefined})]}
    expect(renderSshConfig(inv, {forgeAlias: 'git.acme.dev', knownHosts: '/k/known_hosts'})).toBe(`# Written by fleet from the inventory beside it (acme); rewritten on every change, do not edit.

# Use it with: ssh -F .local/fleet/ssh_config NAME, or "Include" it from ~/.ssh/config.

Host git.acme.dev
  HostName 203.0.113.0
  User git
  Port 2222
  IdentityFile /k/id
  UserKnownHostsFile /k/known_hosts
`)
  })

  it('finds entries fleet.yaml does not declare, missing and shared addresses, and another fleet\'s inventory', () => {
    const inv: Inventory = {...emptyInventory('other'), machines: [runner('ci-1'), {...runner('ci-2'), address: '203.0.113.1'}, {...runner('old-7'), pool: 'old'},
      entryFor(machine('web-9', {ipv4: undefined}), {role: 'host', provider: 'do', port: 22, user: 'root'})]}
    expect(checkInventory(inv, fleet, 'acme')).toEqual([
      'the inventory belongs to fleet "other", but machines of this fleet are labeled fleet=acme (was name: changed?); machines labeled fleet=other are no longer managed',
      'runner ci-2: has the same address as runner ci-1 (203.0.113.1:22)',
      'runner old-7: pool "old" is not declared; remove its runners with the provider\'s console or declare the pool again and run fleet dist:down',
      'host web-9: not declared under hosts:; run fleet decommission web-9',
      'host web-9: no address recorded',
    ])
  })

  it.each([
    ['not JSON', '{', /^\/x\/inventory is not valid JSON/],
    ['not an inventory', '{"machines": 3}', /^\/x\/inventory is not a fleet inventory/],
  ])('rejects a file that is %s', (_name, text, message) => {
    expect(() => parseInventory(text, '/x/inventory')).toThrow(message)
  })
})
