import {createHash} from 'node:crypto'
import {homedir} from 'node:os'
import path from 'node:path'
import type {ListrTask} from 'listr2'
import {UsageError} from '../errors.js'
import type {Capability, Machine, Provider} from '../providers/types.js'
import type {Inventory} from './inventory.js'
import type {Fleet} from './load.js'

/**
 * Labels on every machine and snapshot fleet creates. `fleet` says whose it is; nothing without this fleet's value is
 * ever changed or deleted.
 */
export const LABEL = {fleet: 'fleet', host: 'fleet-host', pool: 'fleet-pool', forge: 'fleet-forge'} as const

/** The value of the fleet label: `name:` in fleet.yaml, else the id recorded in the inventory, else one derived from the directory. */
export function fleetId(fleet: Fleet, recorded?: string): string {
  return fleet.spec.name ?? recorded ?? `fleet-${createHash('sha256').update(fleet.dir).digest('hex').slice(0, 8)}`
}

export const hostLabels = (id: string, host: string) => ({[LABEL.fleet]: id, [LABEL.host]: host})
export const forgeLabels = (id: string, forge: string) => ({[LABEL.fleet]: id, [LABEL.forge]: forge})
export const poolLabels = (id: string, pool: string, tag?: string) => ({[LABEL.fleet]: id, [LABEL.pool]: pool, ...tagLabels(tag)})

/** A pool's `tag: ci:runner` as the label ci=runner (a DigitalOcean tag "ci:runner"); a tag without ":" has an empty value. */
export function tagLabels(tag?: string): Record<string, string> {
  if (!tag) return {}
  const i = tag.indexOf(':')
  return i < 0 ? {[tag]: ''} : {[tag.slice(0, i)]: tag.slice(i + 1)}
}

export function hasLabels(m: {labels: Record<string, string>}, labels: Record<string, string>): boolean {
  return Object.entries(labels).every(([k, v]) => m.labels[k] === v)
}

export function roleOf(m: {labels: Record<string, string>}): {role: 'host' | 'runner' | 'forge' | 'unknown'; group?: string} {
  if (m.labels[LABEL.host] !== undefined) return {role: 'host'}
  if (m.labels[LABEL.pool] !== undefined) return {role: 'runner', group: m.labels[LABEL.pool]}
  if (m.labels[LABEL.forge] !== undefined) return {role: 'forge'}
  return {role: 'unknown'}
}

export function describeLabels(labels: Record<string, string>): string {
  const list = Object.entries(labels).map(([k, v]) => (v === '' ? k : `${k}=${v}`))
  return list.length ? list.join(', ') : 'no labels'
}

export interface ProviderFacts {
  name: string
  type: string
  capabilities: Capability[]
}

export const factsOf = (p: Provider): ProviderFacts => ({name: p.name, type: p.type, capabilities: [...p.capabilities]})

/** The plan-time capability check: "forge needs snapshots" fails before anything runs. */
export function requireCapabilities(p: ProviderFacts | undefined, name: string, need: Capability[], what: string): void {
  if (!p) throw new UsageError(`provider ${name} cannot ${what}: it does not create machines`, 'use a provider of type hetzner or digitalocean')
  const missing = need.filter(c => !p.capabilities.includes(c))
  if (missing.length > 0) throw new UsageError(`provider ${name} (${p.type}) cannot ${what}: it has no ${missing.join(' or ')} support`, 'use a provider of type hetzner or digitalocean')
}

/** What the cloud commands reach the outside world through; built in src/providers/cloud.ts, faked nowhere. */
export interface CloudDeps {
  /** This fleet's value of the `fleet` label. */
  readonly fleetId: string
  /** A cloud provider by its fleet.yaml name (token resolved by the command), or undefined when its type creates no machines. */
  provider(name: string): Promise<Provider | undefined>
  publicKey(): Promise<string>
  /** A cloud-init template's text: `override` (fleet-relative) or templates/cloud-init/<file>. */
  template(file: string, override?: string): Promise<{name: string; text: string}>
  /** Resolves when a TCP connection to host:port gets an "SSH-" banner; throws a TransportError at the deadline. */
  waitForSsh(target: string, host: string, port: number, timeoutMs: number): Promise<void>
  readInventory(): Promise<Inventory>
  /** Re-reads, changes and rewrites the inventory (and the ssh config include); updates are serialized. */
  updateInventory(change: (inv: Inventory) => void): Promise<Inventory>
  now(): number
  /** Waits, or throws when the command is interrupted. */
  sleep(ms: number): Promise<void>
}

/** `~/x` and fleet-relative paths to absolute ones. */
export function fleetPath(fleet: Fleet, p: string, home = homedir()): string {
  if (p === '~' || p.startsWith('~/')) return path.join(home, p.slice(1))
  return path.resolve(fleet.dir, p)
}

/** The base command's runTasks: a concurrency of 1 runs the tasks in order. */
export type TaskRunner = <C extends object>(tasks: ListrTask<C>[], ctx: C, concurrency?: number) => Promise<{ctx: C; errors: Error[]}>

/** A public key's type and data without its comment, which may hold characters that need quoting in YAML. */
export const keyWithoutComment = (key: string) => key.split(/\s+/).slice(0, 2).join(' ')

/** The public IPv4 address, else IPv6. */
export const addressOf = (m: Machine): string | undefined => m.ipv4 ?? m.ipv6

export function ageOf(createdAt: string, now: number): number {
  const t = Date.parse(createdAt)
  return Number.isNaN(t) ? 0 : Math.max(0, now - t)
}

/** 95s, 12m, 3h 5m, 2d 4h. */
export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000)
  if (s < 120) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m`
  const h = Math.floor(m / 60)
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`
  return `${Math.floor(h / 24)}d ${h % 24}h`
}

export const money = (n: number | undefined, currency?: string) => (n === undefined ? '-' : `${n.toFixed(2)}${currency ? ` ${currency}` : ''}`)
