import type {Machine} from '../providers/types.js'
import {addressOf, LABEL} from './cloud.js'
import type {Fleet} from './load.js'

/**
 * What fleet created in the clouds and how to reach it: `.local/fleet/inventory` beside the fleet file, a JSON document
 * rewritten (atomically, mode 0600) on every change. The providers' labels stay the truth about what exists; the
 * inventory adds what they do not know (addresses for ssh, the login, when a runner was last used) and feeds
 * `.local/fleet/ssh_config`.
 */
export interface Inventory {
  version: 1
  /** The fleet label value the machines carry. */
  fleet: string
  updatedAt?: string
  machines: InventoryMachine[]
  /** Completed forge snapshots, newest first. */
  snapshots: InventorySnapshot[]
}

export interface InventoryMachine {
  name: string
  role: 'host' | 'runner' | 'forge'
  /** A runner's pool. */
  pool?: string
  provider: string
  id: string
  address?: string
  port: number
  user: string
  /** Absolute path of the private key, when fleet.yaml names one. */
  identity?: string
  type: string
  region: string
  state: string
  createdAt: string
  /** A runner: when `dist:run` last ran on it. */
  lastUsedAt?: string
}

export interface InventorySnapshot {
  forge: string
  provider: string
  id: string
  name: string
  createdAt: string
  sizeGb?: number
}

export type InventoryScope = Pick<InventoryMachine, 'role'> & Partial<Pick<InventoryMachine, 'pool' | 'provider' | 'name'>>

export function emptyInventory(fleet: string): Inventory {
  return {version: 1, fleet, machines: [], snapshots: []}
}

/** The inventory from its text; a hand-edited or truncated file is an error that names it, not a crash. */
export function parseInventory(text: string, file: string): Inventory {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message})`)
  }
  const inv = raw as Partial<Inventory>
  if (!inv || typeof inv !== 'object' || inv.version !== 1 || typeof inv.fleet !== 'string' || !Array.isArray(inv.machines)) {
    throw new Error(`${file} is not a fleet inventory (expected {"version": 1, "fleet": ..., "machines": [...]})`)
  }
  return {version: 1, fleet: inv.fleet, updatedAt: inv.updatedAt, machines: inv.machines, snapshots: Array.isArray(inv.snapshots) ? inv.snapshots : []}
}

export function entryFor(m: Machine, at: {role: InventoryMachine['role']; provider: string; pool?: string; port: number; user: string; identity?: string}): InventoryMachine {
  return {name: m.name, role: at.role, ...(at.pool ? {pool: at.pool} : {}), provider: at.provider, id: m.id, address: addressOf(m), port: at.port, user: at.user,
    ...(at.identity ? {identity: at.identity} : {}), type: m.type, region: m.region, state: m.state, createdAt: m.createdAt}
}

export function inScope(e: InventoryMachine, scope: InventoryScope): boolean {
  return e.role === scope.role && (scope.pool === undefined || e.pool === scope.pool) && (scope.provider === undefined || e.provider === scope.provider)
    && (scope.name === undefined || e.name === scope.name)
}

/** Replaces the entries of one scope with what was observed, keeping what only fleet knows (lastUsedAt) for the same machine. */
export function syncScope(inv: Inventory, scope: InventoryScope, observed: InventoryMachine[]): void {
  const before = new Map(inv.machines.filter(e => inScope(e, scope)).map(e => [e.id, e]))
  const kept = inv.machines.filter(e => !inScope(e, scope))
  const fresh = observed.map(e => ({...e, ...(before.get(e.id)?.lastUsedAt ? {lastUsedAt: before.get(e.id)!.lastUsedAt} : {})}))
  inv.machines = [...kept, ...fresh].sort((a, b) => a.role.localeCompare(b.role) || a.name.localeCompare(b.name, undefined, {numeric: true}))
}

export function markUsed(inv: Inventory, ids: string[], at: string): void {
  for (const e of inv.machines) if (ids.includes(e.id)) e.lastUsedAt = at
}

/** `Host` blocks for every machine with an address, the forge under its alias, so `ssh -F .local/fleet/ssh_config forge` works. */
export function renderSshConfig(inv: Inventory, opts: {forgeAlias?: string; knownHosts?: string} = {}): string {
  const blocks = inv.machines.filter(e => e.address).map(e => {
    const name = e.role === 'forge' && opts.forgeAlias ? opts.forgeAlias : e.name
    const lines = [`Host ${name}`, `  HostName ${e.address}`, `  User ${e.user}`, `  Port ${e.port}`]
    if (e.identity) lines.push(`  IdentityFile ${e.identity}`)
    if (opts.knownHosts) lines.push(`  UserKnownHostsFile ${opts.knownHosts}`)
    return lines.join('\n')
  })
  return [`# Written by fleet from the inventory beside it (${inv.fleet}); rewritten on every change, do not edit.`,
    '# Use it with: ssh -F .local/fleet/ssh_config NAME, or "Include" it from ~/.ssh/config.', ...blocks].join('\n\n') + '\n'
}

/** Offline consistency checks: every entry belongs to something fleet.yaml declares and can be reached. */
export function checkInventory(inv: Inventory, fleet: Fleet, id: string): string[] {
  const problems: string[] = []
  if (inv.fleet !== id) problems.push(`the inventory belongs to fleet "${inv.fleet}", but machines of this fleet are labeled ${LABEL.fleet}=${id} (was name: changed?); machines labeled ${LABEL.fleet}=${inv.fleet} are no longer managed`)
  const spec = fleet.spec
  const seen = new Map<string, string>()
  for (const e of inv.machines) {
    const what = `${e.role} ${e.name}`
    if (!spec.providers[e.provider]) problems.push(`${what}: provider "${e.provider}" is not declared`)
    if (e.role === 'runner' && !spec.pools?.[e.pool ?? '']) problems.push(`${what}: pool "${e.pool}" is not declared; remove its runners with the provider's console or declare the pool again and run fleet dist:down`)
    if (e.role === 'host' && !spec.hosts[e.name]) problems.push(`${what}: not declared under hosts:; run fleet decommission ${e.name}`)
    if (e.role === 'forge' && spec.forge?.name !== e.name) problems.push(`${what}: not the forge fleet.yaml declares`)
    if (!e.address) problems.push(`${what}: no address recorded`)
    else if (seen.has(`${e.address}:${e.port}`)) problems.push(`${what}: has the same address as ${seen.get(`${e.address}:${e.port}`)} (${e.address}:${e.port})`)
    else seen.set(`${e.address}:${e.port}`, what)
  }
  return problems
}
