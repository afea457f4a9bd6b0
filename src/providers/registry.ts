import type {Fleet} from '../fleet/load.js'
import type {Target} from '../fleet/targets.js'
import {LocalTransport} from '../transport/local.js'
import type {Transport} from '../transport/types.js'
import {mapLimit} from '../fleet/limit.js'
import {HostRuntime, observeHosts} from './host/runtime.js'
import type {InstanceRuntime, TargetStatus} from './runtime.js'
import type {Provider, ProviderDeps} from './types.js'
import type {Secret} from '../secret.js'

export {cloudTokenEnv, isCloudType} from './kinds.js'

export interface Runtimes {
  runtimeFor(instance: string): InstanceRuntime
  /** Every target observed, one round trip per machine, `concurrency` machines at a time. */
  observeAll(targets: Target[], concurrency: number, signal?: AbortSignal): Promise<TargetStatus[]>
  /** The transport that reaches a target: this machine, or an ssh connection shared for the whole command. */
  transportFor(target: Target): Transport
  close(): Promise<void>
}

export interface RuntimeOptions {
  log?: (target: Target, line: string) => void
  signal?: AbortSignal
  /** The ssh-agent socket (SSH_AUTH_SOCK), resolved by the command. */
  sshAgent?: string
}

type Pool = {get(t: NonNullable<Target['ssh']> & {name: string}): Transport; closeAll(): Promise<void>}

/** Runtimes by instance; the ssh client (and ssh2) is loaded only when an ssh instance is used. */
export async function createRuntimes(fleet: Fleet, opts: RuntimeOptions = {}): Promise<Runtimes> {
  const local = new LocalTransport()
  let pool: Promise<Pool> | undefined
  const runtimes = new Map<string, HostRuntime>()
  const transportFor = (t: Target): Transport => {
    if (!t.ssh) return local
    const ssh = {name: t.host, ...t.ssh}
    // ssh2 is loaded on the first command that needs it, not at start-up.
    return {target: t.host, exec: async (argv, o) => (await (pool ??= sshPool(fleet, opts.sshAgent))).get(ssh).exec(argv, o), close: async () => {}}
  }
  const runtimeFor = (instance: string): HostRuntime => {
    let r = runtimes.get(instance)
    if (!r) runtimes.set(instance, (r = new HostRuntime(fleet.spec.instances[instance], transportFor, opts.log)))
    return r
  }
  return {
    transportFor,
    runtimeFor,
    async observeAll(targets, concurrency, signal) {
      const machines = new Map<string, Target[]>()
      for (const t of targets) {
        const key = t.ssh ? `${t.ssh.user ?? ''}@${t.ssh.host}:${t.ssh.port ?? 22}` : 'local'
        machines.set(key, [...(machines.get(key) ?? []), t])
      }
      const seen = await mapLimit([...machines.values()], concurrency, group => observeHosts(group.map(target => ({runtime: runtimeFor(target.instance), target})), transportFor(group[0]), signal))
      const byTarget = new Map(seen.flat().map(s => [s.target, s]))
      return targets.map(t => byTarget.get(t)!)
    },
    async close() {
      await (await pool)?.closeAll()
    },
  }
}

async function sshPool(fleet: Fleet, agentSocket?: string): Promise<Pool> {
  const {SshPool} = await import('../transport/ssh.js')
  const {toMs} = await import('../fleet/duration.js')
  const s = fleet.spec.ssh
  const {fleetPath} = await import('../fleet/cloud.js')
  return new SshPool({
    knownHostsFile: s?.known_hosts ? fleetPath(fleet, s.known_hosts) : undefined,
    hostKeyPolicy: s?.host_key_policy,
    configFile: s?.config ? fleetPath(fleet, s.config) : undefined,
    connectTimeoutMs: s?.connect_timeout === undefined ? undefined : toMs(s.connect_timeout),
    maxStartups: s?.max_startups,
    agentSocket,
  } as never) as unknown as Pool
}

type CloudProviderSpec = {type: string; endpoint?: string}

/** A cloud adapter by provider type, loaded on demand; undefined for types that create no machines (local, ssh, ...). */
export async function createProvider(name: string, spec: CloudProviderSpec, token: Secret, deps: ProviderDeps = {}): Promise<Provider | undefined> {
  switch (spec.type) {
    case 'hetzner': return (await import('./hetzner/index.js')).createHetzner({name, token, endpoint: spec.endpoint}, deps)
    case 'digitalocean': return (await import('./digitalocean/index.js')).createDigitalOcean({name, token, endpoint: spec.endpoint}, deps)
    default: return undefined
  }
}
