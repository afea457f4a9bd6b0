import type {ListrTask} from 'listr2'
import {UsageError} from '../../errors.js'
import type {TargetStatus} from '../../providers/runtime.js'
import type {Fleet} from '../load.js'
import {checkReferences} from '../references.js'
import type {ReplicaRef} from '../release.js'
import {targetsOf} from '../targets.js'
import type {DeployDeps} from './deploy.js'

export interface ScaleChange {
  service: string
  from: number
  to: number
}

export interface ScaleTarget {
  host: string
  start: ReplicaRef[]
  stop: ReplicaRef[]
  result?: 'done' | 'failed'
  error?: string
}

export interface ScalePlan {
  instance: string
  changes: ScaleChange[]
  targets: ScaleTarget[]
}

/** `web=3` pairs into changes; the counts are checked against the schema limits and the port ranges of the host. */
export function parseScale(fleet: Fleet, instance: string, pairs: string[]): ScaleChange[] {
  const services = fleet.spec.instances[instance].services
  if (pairs.length === 0) throw new UsageError('nothing to scale', 'name a service and a count, e.g. fleet scale eu web=3')
  return pairs.map(p => {
    const m = /^([a-z0-9][a-z0-9-]*)=(\d+)$/.exec(p)
    if (!m) throw new UsageError(`"${p}" is not SERVICE=COUNT`, 'e.g. fleet scale eu web=3')
    if (!services[m[1]]) throw new UsageError(`instance ${instance} has no service "${m[1]}"`, `services: ${Object.keys(services).join(', ')}`)
    const to = Number(m[2])
    if (to > 64) throw new UsageError(`${m[1]}=${to}: at most 64 replicas per service`, 'add hosts instead')
    return {service: m[1], from: services[m[1]].replicas, to}
  })
}

/** The fleet as it is once the changes are applied (the file itself is rewritten only after they succeed). */
export function scaledFleet(fleet: Fleet, instance: string, changes: ScaleChange[]): Fleet {
  const spec = structuredClone(fleet.spec)
  for (const c of changes) spec.instances[instance].services[c.service].replicas = c.to
  return {...fleet, spec}
}

/** Which replicas start (lowest missing first) and which stop (highest first) on every target. Pure. */
export function planScale(fleet: Fleet, instance: string, changes: ScaleChange[], observed: TargetStatus[]): ScalePlan {
  const spec = fleet.spec.instances[instance]
  const clash = checkReferences(scaledFleet(fleet, instance, changes).spec).find(p => p.path[1] === instance || p.message.includes(instance))
  if (clash) throw new UsageError(`cannot scale: ${clash.message}`, clash.hint)
  const unreachable = observed.find(o => !o.reachable)
  if (unreachable) throw new UsageError(`cannot scale ${instance}: ${unreachable.target.host} is unreachable (${unreachable.error})`, 'fix the host or remove it from the instance first')
  const targets = targetsOf(fleet, instance).map(t => {
    const start: ReplicaRef[] = []
    const stop: ReplicaRef[] = []
    for (const c of changes) {
      const port = spec.services[c.service].port
      for (let i = c.from; i < c.to; i++) start.push({service: c.service, index: i, port: port + i})
      for (let i = c.from - 1; i >= c.to; i--) stop.push({service: c.service, index: i, port: port + i})
    }
    return {host: t.host, start, stop}
  })
  return {instance, changes, targets}
}

export function scaleTasks(plan: ScalePlan, deps: DeployDeps): ListrTask<{plan: ScalePlan}>[] {
  const runtime = deps.runtimeFor(plan.instance)
  return plan.targets.map(st => ({
    title: `${plan.instance}@${st.host}: ${plan.changes.map(c => `${c.service} ${c.from} -> ${c.to}`).join(', ')}`,
    task: async (_ctx, task) => {
      const target = targetsOf(deps.fleet, plan.instance).find(t => t.host === st.host)!
      try {
        for (const r of st.start) {
          task.output = `starting ${r.service}-${r.index} on :${r.port}`
          const probe = await runtime.start(target, r, deps.signal)
          if (!probe.ok) throw new Error(`${r.service}-${r.index} is not healthy: ${probe.error}`)
        }
        for (const r of st.stop) {
          task.output = `draining ${r.service}-${r.index}`
          await runtime.stop(target, r, deps.signal)
        }
        st.result = 'done'
      } catch (error) {
        st.result = 'failed'
        st.error = (error as Error).message
        throw error
      }
    },
  }))
}
