import path from 'node:path'
import {UsageError} from '../errors.js'
import type {Fleet} from './load.js'
import type {InstanceSpec} from './schema.js'

/** One place an instance runs: this machine, or one ssh host. */
export interface Target {
  instance: string
  host: string
  runtime: InstanceSpec['runtime']
  /** The instance directory on the target (relative paths are relative to the remote home). */
  root: string
  /** Address replicas bind to and health checks reach. */
  bind: string
  ssh?: {host: string; port?: number; user?: string; identityFile?: string; proxyJump?: string}
}

export function targetsOf(fleet: Fleet, instance: string): Target[] {
  const spec = fleet.spec.instances[instance]
  if (spec.runtime === 'local') {
    const root = spec.root ? path.resolve(fleet.dir, spec.root) : path.join(fleet.stateDir, 'local', instance)
    return [{instance, host: 'local', runtime: 'local', root, bind: '127.0.0.1'}]
  }
  return (spec.hosts ?? []).map(host => {
    const h = fleet.spec.hosts[host]
    const address = h.address ?? host
    return {
      instance, host, runtime: spec.runtime, root: spec.root ?? h.root ?? `fleet/${instance}`, bind: h.bind ?? address,
      ssh: {host: address, port: h.port, user: h.user, identityFile: h.identity ? path.resolve(fleet.dir, h.identity) : undefined, proxyJump: h.proxy},
    }
  })
}

/** The instances a command acts on: the named ones (each must exist), or all of them. */
export function selectInstances(fleet: Fleet, names: string[]): string[] {
  const all = Object.keys(fleet.spec.instances)
  for (const n of names) if (!all.includes(n)) throw new UsageError(`unknown instance "${n}"`, `instances in ${path.basename(fleet.file)}: ${all.join(', ') || 'none'}`)
  return names.length > 0 ? names : all
}

export interface ExecSelection {
  instances?: string[]
  hosts?: string[]
  labels?: string[]
}

/**
 * Where `fleet exec` runs: the targets of the named instances, the named hosts, the hosts with a label; with no
 * selection, every declared host (or this machine when the fleet declares no hosts). Each place appears once.
 */
export function execTargets(fleet: Fleet, sel: ExecSelection): Target[] {
  const hostTarget = (host: string): Target => {
    const h = fleet.spec.hosts[host]
    if (!h) throw new UsageError(`unknown host "${host}"`, `hosts in ${path.basename(fleet.file)}: ${Object.keys(fleet.spec.hosts).join(', ') || 'none'}`)
    const address = h.address ?? host
    return {instance: '', host, runtime: 'ssh', root: '.', bind: h.bind ?? address, ssh: {host: address, port: h.port, user: h.user, identityFile: h.identity ? path.resolve(fleet.dir, h.identity) : undefined, proxyJump: h.proxy}}
  }
  const picked: Target[] = []
  for (const i of sel.instances ?? []) picked.push(...targetsOf(fleet, selectInstances(fleet, [i])[0]))
  for (const h of sel.hosts ?? []) picked.push(hostTarget(h))
  for (const l of sel.labels ?? []) {
    const matching = Object.entries(fleet.spec.hosts).filter(([, h]) => h.labels?.includes(l)).map(([n]) => n)
    if (matching.length === 0) throw new UsageError(`no host has the label "${l}"`, 'labels are declared per host: labels: [web, db]')
    picked.push(...matching.map(hostTarget))
  }
  const none = !sel.instances?.length && !sel.hosts?.length && !sel.labels?.length
  if (none) {
    const hosts = Object.keys(fleet.spec.hosts)
    picked.push(...(hosts.length ? hosts.map(hostTarget) : [{instance: '', host: 'local', runtime: 'local' as const, root: fleet.dir, bind: '127.0.0.1'}]))
  }
  const seen = new Set<string>()
  return picked.filter(t => !seen.has(t.host) && seen.add(t.host))
}
