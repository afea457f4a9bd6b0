import type {ListrTask} from 'listr2'
import {auditOf} from '../../state/audit.js'
import type {InstanceRuntime, ReleaseSource, TargetStatus} from '../../providers/runtime.js'
import type {Fleet} from '../load.js'
import {replicasOf, type ReplicaRef} from '../release.js'
import {targetsOf, type Target} from '../targets.js'
import {ensureSecrets, type ResolvedSecrets} from './secrets.js'

export interface TargetPlan {
  host: string
  from?: string
  action: 'deploy' | 'restart' | 'noop' | 'unreachable'
  reason: string
  /** Replicas running although no longer declared; converging stops them. */
  strays?: string[]
}

export interface InstancePlan {
  instance: string
  runtime: string
  version: string
  boot: number
  /** Where the migration runs, once, after the release is in place and before traffic moves to it. */
  migrateOn?: string
  targets: TargetPlan[]
}

export interface DeployPlan {
  instances: InstancePlan[]
  changes: number
}

export interface TargetOutcome {
  instance: string
  host: string
  from?: string
  to: string
  result: 'deployed' | 'restarted' | 'unchanged' | 'failed' | 'rolled-back' | 'rollback-failed' | 'skipped'
  /** Whether `current` was moved on this target (and so must move back if the deploy fails). */
  switched: boolean
  error?: string
}

/** Which targets change and why, from the fleet, the observed targets and each instance's release version. Pure. */
export function planDeploy(fleet: Fleet, observed: Record<string, TargetStatus[]>, versions: Record<string, string>, instances: string[], opts: {force?: boolean} = {}): DeployPlan {
  const plans = instances.map(instance => {
    const spec = fleet.spec.instances[instance]
    const version = versions[instance]
    const targets = observed[instance].map((s): TargetPlan => {
      const host = s.target.host
      if (!s.reachable) return {host, action: 'unreachable', reason: s.error ?? 'unreachable'}
      if (s.current !== version || opts.force) return {host, from: s.current, action: 'deploy', reason: !s.current ? `first release ${version}` : s.current === version ? `redeploy ${version} (--force)` : `${s.current} -> ${version}`}
      const down = s.replicas.filter(r => !r.health.ok).map(r => `${r.service}-${r.index}`)
      if (down.length > 0 || s.strays.length > 0) return {host, from: s.current, action: 'restart', strays: s.strays, reason: [down.length ? `unhealthy: ${down.join(', ')}` : '', s.strays.length ? `extra: ${s.strays.join(', ')}` : ''].filter(Boolean).join('; ')}
      return {host, from: s.current, action: 'noop', reason: `up to date (${version})`}
    })
    const migrateOn = spec.migrate && targets.some(t => t.action === 'deploy') ? targets[0].host : undefined
    return {instance, runtime: spec.runtime, version, boot: bootLimit(spec.rollout?.boot ?? 1, targets.length), migrateOn, targets}
  })
  return {instances: plans, changes: plans.flatMap(p => p.targets).filter(t => t.action !== 'noop').length}
}

export function bootLimit(boot: number | string, of: number): number {
  if (typeof boot === 'number') return Math.max(1, boot)
  return Math.max(1, Math.floor((of * Number(boot.slice(0, -1))) / 100))
}

export interface DeployDeps {
  fleet: Fleet
  runtimeFor: (instance: string) => InstanceRuntime
  sources: Record<string, ReleaseSource>
  /** Secret values the command resolved (vault files, environment variables), by instance. */
  secrets?: ResolvedSecrets
  signal?: AbortSignal
}

export interface DeployCtx {
  outcomes: TargetOutcome[]
}

/** One concurrent task per instance; inside it, prepare every target, then roll the targets in batches of `boot`. */
export function deployTasks(plan: DeployPlan, deps: DeployDeps): ListrTask<DeployCtx>[] {
  return plan.instances.map(ip => ({
    title: `${ip.instance}: ${summary(ip)}`,
    task: async (ctx, task) => {
      const runtime = deps.runtimeFor(ip.instance)
      const targets = new Map(targetsOf(deps.fleet, ip.instance).map(t => [t.host, t]))
      const replicas = replicasOf(deps.fleet.spec.instances[ip.instance].services)
      const switched = new Set<string>()
      const outcome = (tp: TargetPlan, result: TargetOutcome['result'], error?: string) => {
        ctx.outcomes.push({instance: ip.instance, host: tp.host, from: tp.from, to: ip.version, result, switched: switched.has(tp.host), error})
      }
      const bad = ip.targets.find(t => t.action === 'unreachable')
      if (bad) {
        for (const tp of ip.targets) outcome(tp, tp === bad ? 'failed' : 'skipped', tp === bad ? tp.reason : undefined)
        throw new Error(`${bad.host} unreachable: ${bad.reason}`)
      }
      const changing = ip.targets.filter(t => t.action === 'deploy')
      for (const tp of ip.targets.filter(t => t.action === 'noop')) outcome(tp, 'unchanged')
      let phase = 'prepare'
      try {
        task.output = `preparing ${ip.version} on ${changing.map(t => t.host).join(', ') || 'no target'}`
        await ensureSecrets(deps, ip.instance, deps.secrets?.[ip.instance], [...targets.values()])
        const prepared = await Promise.allSettled(changing.map(tp => runtime.prepare(targets.get(tp.host)!, deps.sources[ip.instance], deps.signal)))
        const failed = prepared.flatMap((p, i) => (p.status === 'rejected' ? [{tp: changing[i], error: p.reason as Error}] : []))
        if (failed.length > 0) {
          for (const tp of ip.targets.filter(t => t.action !== 'noop')) {
            const mine = failed.find(f => f.tp === tp)
            outcome(tp, mine ? 'failed' : 'skipped', mine ? `prepare failed: ${mine.error.message}` : undefined)
          }
          throw failed[0].error
        }
        if (ip.migrateOn) {
          phase = 'migration'
          task.output = `migrating on ${ip.migrateOn} before traffic moves`
          await migrate(deps, targets.get(ip.migrateOn)!, {release: ip.version})
        }
      } catch (error) {
        const recorded = new Set(ctx.outcomes.filter(o => o.instance === ip.instance).map(o => o.host))
        for (const tp of ip.targets.filter(t => t.action !== 'noop' && !recorded.has(t.host))) outcome(tp, 'failed', `${phase} failed: ${(error as Error).message}`)
        throw error
      }
      const work = ip.targets.filter(t => t.action !== 'noop')
      try {
        for (let i = 0; i < work.length; i += ip.boot) {
          const batch = await Promise.allSettled(work.slice(i, i + ip.boot).map(async tp => {
            const target = targets.get(tp.host)!
            try {
              if (tp.action === 'deploy') {
                switched.add(tp.host)
                await runtime.activate(target, ip.version, deps.signal)
              }
              for (const stray of tp.strays ?? []) await runtime.stop(target, parseReplica(stray), deps.signal)
              await rollReplicas(runtime, target, replicas, tp.action === 'deploy', ip.boot, m => { task.output = m }, deps.signal)
              await runtime.record(target, ip.version, deps.sources[ip.instance].keep, deps.signal)
              outcome(tp, tp.action === 'deploy' ? 'deployed' : 'restarted')
            } catch (error) {
              outcome(tp, 'failed', (error as Error).message)
              throw error
            }
          }))
          const failed = batch.find(b => b.status === 'rejected')
          if (failed) throw failed.reason
        }
      } finally {
        for (const tp of work.filter(t => !ctx.outcomes.some(o => o.instance === ip.instance && o.host === t.host))) outcome(tp, 'skipped')
      }
    },
  }))
}

/** Runs the instance's migration once on one target; a non-zero exit is a failure with the tool's own words. */
export async function migrate(deps: Pick<DeployDeps, 'fleet' | 'runtimeFor' | 'signal'>, target: Target, where: 'current' | {release: string}): Promise<string> {
  const command = deps.fleet.spec.instances[target.instance].migrate!.command
  const argv = typeof command === 'string' ? ['sh', '-c', command] : command
  const r = await deps.runtimeFor(target.instance).runTask(target, argv, {in: where, signal: deps.signal})
  if (r.code !== 0) throw new Error(`migration on ${target.host} exited ${r.code}: ${(r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' | ')}`)
  return r.stdout.trim()
}

/**
 * Restarts replicas `boot` at a time; when converging, starts only what is not running and restarts what runs
 * unhealthy. The first replica that stays unhealthy fails the target.
 */
async function rollReplicas(runtime: InstanceRuntime, target: Target, replicas: ReplicaRef[], restart: boolean, boot: number, say: (m: string) => void, signal?: AbortSignal): Promise<void> {
  for (let i = 0; i < replicas.length; i += boot) {
    const probes = await Promise.all(replicas.slice(i, i + boot).map(async r => {
      say(`${target.instance}@${target.host}: ${r.service}-${r.index} on :${r.port}`)
      if (restart) return {r, probe: await runtime.restart(target, r, signal)}
      const probe = await runtime.start(target, r, signal)
      return {r, probe: probe.ok ? probe : await runtime.restart(target, r, signal)}
    }))
    const failed = probes.find(p => !p.probe.ok)
    if (failed) throw new Error(`${target.host}: ${failed.r.service}-${failed.r.index} failed its health check (${failed.probe.error})`)
  }
}

/** Puts every target that left its release back on it; targets with no earlier release are stopped. */
export function rollbackTasks(ctx: DeployCtx, deps: DeployDeps): ListrTask<DeployCtx>[] {
  return ctx.outcomes.filter(o => o.switched).map(o => ({
    title: `${o.instance}@${o.host}: back to ${o.from ?? 'nothing (stop)'}`,
    task: async () => {
      try {
        await switchTarget(deps, o.instance, o.host, o.from)
        if (o.result === 'deployed') o.result = 'rolled-back'
        else o.error = `${o.error}; rolled back to ${o.from ?? 'nothing (stopped)'}`
      } catch (error) {
        o.result = 'rollback-failed'
        o.error = `${o.error ? o.error + '; ' : ''}rollback failed: ${(error as Error).message}`
        throw error
      }
    },
  }))
}

/** Switches one target to an installed release and restarts its replicas health-gated; no release means stop. */
export async function switchTarget(deps: DeployDeps, instance: string, host: string, to: string | undefined, record = false): Promise<void> {
  const runtime = deps.runtimeFor(instance)
  const target = targetsOf(deps.fleet, instance).find(t => t.host === host)!
  const spec = deps.fleet.spec.instances[instance]
  if (!to) {
    await runtime.deactivate(target, deps.signal)
    return
  }
  await runtime.activate(target, to, deps.signal)
  await rollReplicas(runtime, target, replicasOf(spec.services), true, 1, () => {}, deps.signal)
  if (record) await runtime.record(target, to, spec.release.keep, deps.signal)
}

type TaskRunner = <C extends object>(tasks: ListrTask<C>[], ctx: C) => Promise<{ctx: C; errors: Error[]}>

/** Deploys, and when any target fails, puts every switched target of the whole deploy back. */
export async function executeDeploy(plan: DeployPlan, deps: DeployDeps, run: TaskRunner): Promise<TargetOutcome[]> {
  const {ctx} = await run(deployTasks(plan, deps), {outcomes: []} as DeployCtx)
  // Rollback runs even after an interrupt (without the aborted signal): a half-switched fleet is worse than a late exit.
  if (ctx.outcomes.some(o => o.result === 'failed')) await run(rollbackTasks(ctx, {...deps, signal: undefined}), ctx)
  return ctx.outcomes
}

function parseReplica(name: string): {service: string; index: number} {
  const i = name.lastIndexOf('-')
  return {service: name.slice(0, i), index: Number(name.slice(i + 1))}
}

function summary(ip: InstancePlan): string {
  const n = (a: TargetPlan['action']) => ip.targets.filter(t => t.action === a).length
  const targets = (k: number) => `${k} target${k === 1 ? '' : 's'}`
  const parts = [n('deploy') && `deploy ${ip.version} to ${targets(n('deploy'))}`, n('restart') && `restart ${targets(n('restart'))}`, n('unreachable') && `${n('unreachable')} unreachable`, n('noop') && `${n('noop')} up to date`]
  return parts.filter(Boolean).join(', ')
}

/** What the audit log keeps of a deploy. */
export function deployAudit(outcomes: TargetOutcome[]) {
  return auditOf(outcomes, o => ['deployed', 'restarted', 'unchanged'].includes(o.result), o => ({target: `${o.instance}@${o.host}`, result: o.result, error: o.error}))
}
