import {StepError} from '../../errors.js'
import * as release from '../../fleet/release.js'
import {toMs} from '../../fleet/duration.js'
import type {HealthSpec, InstanceSpec} from '../../fleet/schema.js'
import type {Target} from '../../fleet/targets.js'
import {probeHttp, waitHealthy, type Probe} from '../../transport/health.js'
import type {Transport} from '../../transport/types.js'
import {formatEnvFile, parseEnvFile} from '../../fleet/secrets.js'
import {Secret} from '../../secret.js'
import type {InstanceRuntime, ReleaseSource, TargetStatus} from '../runtime.js'

/** The release model over any transport: the local runtime and the ssh runtime are this class with another transport. */
export class HostRuntime implements InstanceRuntime {
  constructor(
    private readonly spec: InstanceSpec,
    private readonly transportFor: (t: Target) => Transport,
    private readonly log: (target: Target, line: string) => void = () => {},
  ) {}

  async observe(target: Target, signal?: AbortSignal): Promise<TargetStatus> {
    return (await observeHosts([{runtime: this, target}], this.transportFor(target), signal))[0]
  }

  /** Step 1 of observing: the argv entry for this target's root and replicas. */
  observation(target: Target) {
    return {root: target.root, replicas: release.replicasOf(this.spec.services)}
  }

  /** Step 2: what the target's observation means, with every running replica's health probed over HTTP. */
  async assess(target: Target, obs: release.TargetObservation, signal?: AbortSignal): Promise<TargetStatus> {
    const replicas = release.replicasOf(this.spec.services)
    const declared = new Set(replicas.map(r => `${r.service}-${r.index}`))
    const withHealth = await Promise.all(replicas.map(async r => {
      const proc = obs.processes[`${r.service}-${r.index}`]
      const process = !proc || !proc.pid ? 'absent' as const : proc.up ? 'up' as const : 'down' as const
      const health: Probe = process === 'up' ? await this.probe(target, r, signal) : {ok: false, latencyMs: 0, error: process === 'absent' ? 'not started' : 'process exited'}
      return {...r, process, pid: proc?.pid, health}
    }))
    const strays = Object.entries(obs.processes).filter(([k, p]) => p.up && !declared.has(k)).map(([k]) => k)
    return {target, reachable: true, current: obs.current, previous: release.previousRelease(obs), releases: obs.releases, replicas: withHealth, strays}
  }

  async prepare(target: Target, source: ReleaseSource, signal?: AbortSignal): Promise<void> {
    const r = await this.run(target, 'prepare release', release.prepareRelease(target.root, source.version, source.install), signal, await source.archive())
    this.log(target, `release ${source.version} ${r.stdout.trim().split('\n').at(-1)}`)
  }

  async activate(target: Target, version: string, signal?: AbortSignal): Promise<string | undefined> {
    const r = await this.run(target, 'switch release', release.switchRelease(target.root, version), signal)
    this.log(target, `current -> ${version}`)
    return r.stdout.trim() || undefined
  }

  async restart(target: Target, replica: release.ReplicaRef, signal?: AbortSignal): Promise<Probe> {
    await this.run(target, `restart ${replica.service}-${replica.index}`, release.restartReplica(target.root, replica, this.launch(target, replica)), signal)
    return this.healthGate(target, replica, signal)
  }

  async start(target: Target, replica: release.ReplicaRef, signal?: AbortSignal): Promise<Probe> {
    await this.run(target, `start ${replica.service}-${replica.index}`, release.startReplica(target.root, replica, this.launch(target, replica)), signal)
    return this.healthGate(target, replica, signal)
  }

  private launch(target: Target, r: release.ReplicaRef): release.ReplicaLaunch {
    const svc = this.spec.services[r.service]
    return {instance: target.instance, bind: target.bind, command: svc.start, env: {...this.spec.env, ...svc.env}}
  }

  private async healthGate(target: Target, replica: release.ReplicaRef, signal?: AbortSignal): Promise<Probe> {
    const h = this.spec.services[replica.service].health
    const probe = await waitHealthy(this.url(target, replica, h), h.expect, toMs(h.timeout), toMs(h.grace), toMs(h.interval), signal)
    this.log(target, `${replica.service}-${replica.index} on :${replica.port} ${probe.ok ? `healthy in ${probe.latencyMs} ms` : `unhealthy: ${probe.error}`}`)
    return probe
  }

  async stop(target: Target, replica: Pick<release.ReplicaRef, 'service' | 'index'>, signal?: AbortSignal): Promise<void> {
    await this.run(target, `stop ${replica.service}-${replica.index}`, release.stopReplica(target.root, replica), signal)
  }

  async stopAll(target: Target, signal?: AbortSignal): Promise<string[]> {
    const r = await this.run(target, 'stop all', release.stopAll(target.root), signal)
    return r.stdout.split('\n').filter(l => l.startsWith('stopped ')).map(l => l.slice(8).replace(/\.pid$/, ''))
  }

  async deactivate(target: Target, signal?: AbortSignal): Promise<void> {
    await this.stopAll(target, signal)
    await this.run(target, 'clear current', release.clearCurrent(target.root), signal)
  }

  async record(target: Target, version: string, keep: number, signal?: AbortSignal): Promise<void> {
    await this.run(target, 'record release', release.recordRelease(target.root, version, keep), signal)
  }

  async runTask(target: Target, argv: string[], opts: {in: 'current' | {release: string}; env?: Map<string, Secret>; signal?: AbortSignal}) {
    const plain = Object.entries(this.spec.env ?? {}).map(([k, v]) => [k, new Secret(v, k)] as const)
    const stdin = formatEnvFile(new Map([...plain, ...(opts.env ?? [])]))
    return this.transportFor(target).exec(release.runInRelease(target.root, opts.in, argv), {signal: opts.signal, stdin})
  }

  async readSecrets(target: Target, signal?: AbortSignal): Promise<Map<string, Secret>> {
    return parseEnvFile((await this.run(target, 'read secrets', release.readEnv(target.root), signal)).stdout)
  }

  async writeSecrets(target: Target, values: Map<string, Secret>, signal?: AbortSignal): Promise<void> {
    await this.run(target, 'write secrets', release.writeEnv(target.root), signal, formatEnvFile(values))
  }

  async restoreSecrets(target: Target, signal?: AbortSignal): Promise<void> {
    await this.run(target, 'restore secrets', release.restoreEnv(target.root), signal)
  }

  async retireSecrets(target: Target, signal?: AbortSignal): Promise<void> {
    await this.run(target, 'retire old secrets', release.retireEnv(target.root), signal)
  }

  async close(): Promise<void> {}

  private probe(target: Target, r: release.ReplicaRef, signal?: AbortSignal): Promise<Probe> {
    const h = this.spec.services[r.service].health
    return probeHttp(this.url(target, r, h), h.expect, toMs(h.timeout), signal)
  }

  private url(target: Target, r: release.ReplicaRef, h: HealthSpec): string {
    const host = target.bind.includes(':') ? `[${target.bind}]` : target.bind === '0.0.0.0' ? target.ssh?.host ?? '127.0.0.1' : target.bind
    return `http://${host}:${r.port}${h.path}`
  }

  private async run(target: Target, step: string, argv: string[], signal?: AbortSignal, stdin?: Buffer) {
    const r = await this.transportFor(target).exec(argv, {signal, stdin})
    // stdout is never quoted in errors: some steps print secrets (the env file) on it.
    if (r.code !== 0) throw new StepError(target.instance, target.host, step, r.code, r.stderr.trim())
    return r
  }
}

/** Observes many targets that one transport reaches in a single round trip, then probes their replicas. */
export async function observeHosts(items: {runtime: HostRuntime; target: Target}[], transport: Transport, signal?: AbortSignal): Promise<TargetStatus[]> {
  let observations: release.TargetObservation[]
  try {
    const r = await transport.exec(release.observeTargets(items.map(i => i.runtime.observation(i.target))), {signal})
    if (r.code !== 0) throw new Error(`observe exited ${r.code}: ${r.stderr.trim()}`)
    observations = release.parseObservations(r.stdout)
  } catch (error) {
    return items.map(({target}) => ({target, reachable: false, error: (error as Error).message, releases: [], replicas: [], strays: []}))
  }
  return Promise.all(items.map(({runtime, target}, i) => runtime.assess(target, observations[i] ?? {releases: [], history: [], processes: {}}, signal)))
}
