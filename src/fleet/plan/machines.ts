import {isCloudType} from '../../providers/kinds.js'
import type {Machine} from '../../providers/types.js'
import {addressOf, ageOf, type CloudDeps, LABEL, roleOf} from '../cloud.js'
import type {Fleet} from '../load.js'

export interface MachineRow {
  name: string
  role: 'host' | 'runner' | 'forge' | 'unknown'
  /** A runner's pool. */
  pool?: string
  provider: string
  /** The provider's state, or "absent" for a declared cloud host that has no machine. */
  state: string
  type?: string
  region?: string
  address?: string
  id?: string
  createdAt?: string
  ageMs?: number
}

/** Whether the fleet has anything in a cloud: pools, a forge, or hosts of a provider whose token is a cloud's. */
export function declaresMachines(fleet: Fleet): boolean {
  const s = fleet.spec
  const cloud = (provider: string) => isCloudType(s.providers[provider]?.type ?? '')
  return Object.keys(s.pools ?? {}).length > 0 || Boolean(s.forge) || Object.values(s.hosts).some(h => cloud(h.provider))
}

/** Every machine labeled as this fleet's, on every cloud provider the fleet uses, plus declared cloud hosts that have none. */
export async function observeMachines(fleet: Fleet, deps: CloudDeps): Promise<MachineRow[]> {
  const s = fleet.spec
  const used = new Set([...Object.values(s.hosts).map(h => h.provider), ...Object.values(s.pools ?? {}).map(p => p.provider), ...(s.forge ? [s.forge.provider] : [])])
  const rows: MachineRow[] = []
  const cloudProviders = new Set<string>()
  await Promise.all([...used].map(async name => {
    const p = await deps.provider(name)
    if (!p?.machines) return
    cloudProviders.add(name)
    const machines = await p.machines.list({labels: {[LABEL.fleet]: deps.fleetId}})
    rows.push(...machines.map(m => row(m, name, deps.now())))
  }))
  for (const [host, h] of Object.entries(s.hosts)) {
    if (cloudProviders.has(h.provider) && !rows.some(r => r.role === 'host' && r.name === host)) {
      rows.push({name: host, role: 'host', provider: h.provider, state: 'absent', type: h.type, region: h.region})
    }
  }
  const order = {host: 0, forge: 1, runner: 2, unknown: 3}
  return rows.sort((a, b) => order[a.role] - order[b.role] || a.name.localeCompare(b.name, undefined, {numeric: true}))
}

function row(m: Machine, provider: string, now: number): MachineRow {
  const {role, group} = roleOf(m)
  return {name: m.name, role, ...(group ? {pool: group} : {}), provider, state: m.state, type: m.type, region: m.region, address: addressOf(m), id: m.id,
    createdAt: m.createdAt, ageMs: ageOf(m.createdAt, now)}
}
