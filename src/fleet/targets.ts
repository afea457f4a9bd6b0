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
