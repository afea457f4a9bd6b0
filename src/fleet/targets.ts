import path from 'node:path'
import {UsageError} from '../errors.js'
import {RUNTIMES} from '../providers/kinds.js'
import {fleetPath} from './cloud.js'
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
  if (RUNTIMES[spec.runtime].placement === 'this-machine') {
    const root = spec.root ? path.resolve(fleet.dir, spec.root) : path.join(fleet.stateDir, 'local', instance)
    return [{instance, host: 'local', runtime: 'local', root, bind: '127.0.0.1'}]
  }
  return (spec.hosts ?? []).map(host => {
    const reach = sshOf(fleet, host)
    return {instance, host, runtime: spec.runtime, root: spec.root ?? fleet.spec.hosts[host].root ?? `fleet/${instance}`, bind: fleet.spec.hosts[host].bind ?? reach.host, ssh: reach}
  })
}

/** How to reach a host: as declared, or where `provision` created it (the inventory), with `~` expanded. */
function sshOf(fleet: Fleet, host: string): NonNullable<Target['ssh']> {
  const h = fleet.spec.hosts[host]
  const made = h.address ? undefined : fleet.machines?.[host]
  const identity = h.identity ?? made?.identity
  return {host: h.address ?? made?.address ?? host, port: h.port ?? made?.port, user: h.user ?? made?.user, identityFile: identity ? fleetPath(fleet, identity) : undefined, proxyJump: h.proxy}
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
    if (!fleet.spec.hosts[host]) throw new UsageError(`unknown host "${host}"`, `hosts in ${path.basename(fleet.file)}: ${Object.keys(fleet.spec.hosts).join(', ') || 'none'}`)
    const ssh = sshOf(fleet, host)
    return {instance: '', host, runtime: 'ssh', root: '.', bind: fleet.spec.hosts[host].bind ?? ssh.host, ssh}
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
