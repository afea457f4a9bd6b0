import type {ListrTask} from 'listr2'
import {auditOf} from '../../state/audit.js'
import {UsageError} from '../../errors.js'
import type {TargetStatus} from '../../providers/runtime.js'
import {replicasOf} from '../release.js'
import {targetsOf} from '../targets.js'
import {switchTarget, type DeployDeps} from './deploy.js'

export interface TargetChange {
  instance: string
  host: string
  from?: string
  to?: string
  result: 'pending' | 'done' | 'failed'
  detail?: string
  error?: string
}

export interface ChangeCtx {
  changes: TargetChange[]
}

/** Every target of the instance goes to its previous healthy release; a target without one stops the rollback. Pure. */
export function planRollback(observed: TargetStatus[], instance: string): TargetChange[] {
  const missing = observed.filter(s => !s.reachable || !s.previous)
  if (missing.length > 0) {
    const why = missing.map(s => `${s.target.host}: ${s.reachable ? 'no earlier healthy release is installed' : s.error}`).join('; ')
    throw new UsageError(`cannot roll back ${instance}: ${why}`, 'run "fleet status" to see each target\'s releases; deploy a fixed release instead')
  }
  return observed.map(s => ({instance, host: s.target.host, from: s.current, to: s.previous, result: 'pending'}))
}

export function rollbackInstanceTasks(changes: TargetChange[], deps: DeployDeps): ListrTask<ChangeCtx>[] {
  return changes.map(c => ({
    title: `${c.instance}@${c.host}: ${c.from} -> ${c.to}`,
    task: async () => track(c, () => switchTarget(deps, c.instance, c.host, c.to, true)),
  }))
}

export function stopTasks(instances: string[], deps: DeployDeps, ctx: ChangeCtx): ListrTask<ChangeCtx>[] {
  return instances.flatMap(i => targetsOf(deps.fleet, i).map(t => {
    const c: TargetChange = {instance: i, host: t.host, result: 'pending'}
    ctx.changes.push(c)
    return {title: `stop ${i}@${t.host}`, task: async () => track(c, async () => {
      const stopped = await deps.runtimeFor(i).stopAll(t, deps.signal)
      c.detail = stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing was running'
    })}
  }))
}

export function startTasks(instances: string[], deps: DeployDeps, ctx: ChangeCtx): ListrTask<ChangeCtx>[] {
  return instances.flatMap(i => targetsOf(deps.fleet, i).map(t => {
    const c: TargetChange = {instance: i, host: t.host, result: 'pending'}
    ctx.changes.push(c)
    return {title: `start ${i}@${t.host}`, task: async () => track(c, async () => {
      const runtime = deps.runtimeFor(i)
      for (const r of replicasOf(deps.fleet.spec.instances[i].services)) {
        const probe = await runtime.start(t, r, deps.signal)
        if (!probe.ok) throw new Error(`${r.service}-${r.index} is not healthy: ${probe.error}`)
      }
      c.detail = 'all replicas healthy'
    })}
  }))
}

async function track(c: TargetChange, work: () => Promise<void>): Promise<void> {
  try {
    await work()
    c.result = 'done'
  } catch (error) {
    c.result = 'failed'
    c.error = (error as Error).message
    throw error
  }
}

export function changeAudit(changes: TargetChange[]) {
  return auditOf(changes, c => c.result === 'done', c => ({target: `${c.instance}@${c.host}`, result: c.result, error: c.error}))
}
