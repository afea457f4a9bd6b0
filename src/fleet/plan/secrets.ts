import type {ListrTask} from 'listr2'
import type {Secret} from '../../secret.js'
import {applyEnv, generateSecret} from '../secrets.js'
import {targetsOf, type Target} from '../targets.js'
import type {DeployDeps} from './deploy.js'

/** Values resolved by the command from vault files and environment variables; `generate` secrets are absent. */
export type ResolvedSecrets = Record<string, Map<string, Secret>>

export interface RotationPlan {
  instance: string
  secrets: {name: string; source: string; apply: boolean}[]
}

export interface RotationOutcome {
  instance: string
  secrets: string[]
  result: 'rotated' | 'unchanged' | 'restored' | 'failed'
  targets: string[]
  error?: string
}

export interface RotationCtx {
  outcomes: RotationOutcome[]
}

/** Which secrets of which instances rotate. Pure. */
export function planRotation(deps: Pick<DeployDeps, 'fleet'>, instances: string[], only: string[]): RotationPlan[] {
  return instances.map(instance => {
    const declared = Object.entries(deps.fleet.spec.instances[instance].secrets ?? {})
    return {instance, secrets: declared.filter(([n]) => only.length === 0 || only.includes(n)).map(([name, s]) => ({name, source: s.source, apply: Boolean(s.apply)}))}
  }).filter(p => p.secrets.length > 0)
}

/**
 * Per instance: make the new values, apply them where they are also held (e.g. the database), push the env file
 * to every target, restart health-gated, and only then retire the old values; on any failure put the old ones back.
 */
export function rotateTasks(plans: RotationPlan[], resolved: ResolvedSecrets, deps: DeployDeps): ListrTask<RotationCtx>[] {
  return plans.map(plan => ({
    title: `${plan.instance}: rotate ${plan.secrets.map(s => s.name).join(', ')}`,
    task: async (ctx, task) => {
      const runtime = deps.runtimeFor(plan.instance)
      const spec = deps.fleet.spec.instances[plan.instance]
      const targets = targetsOf(deps.fleet, plan.instance)
      const outcome: RotationOutcome = {instance: plan.instance, secrets: plan.secrets.map(s => s.name), result: 'failed', targets: targets.map(t => t.host)}
      ctx.outcomes.push(outcome)
      const current = await runtime.readSecrets(targets[0], deps.signal)
      const next = new Map(current)
      for (const s of plan.secrets) {
        const value = resolved[plan.instance]?.get(s.name) ?? (s.source === 'generate' ? generateSecret(s.name, spec.secrets![s.name]) : undefined)
        if (!value) throw new Error(`secret ${s.name}: its source (${s.source}) gave no value`)
        next.set(s.name, value)
      }
      const changed = plan.secrets.filter(s => current.get(s.name)?.reveal() !== next.get(s.name)!.reveal())
      if (changed.length === 0) {
        outcome.result = 'unchanged'
        return
      }
      const applied: string[] = []
      const written: Target[] = []
      try {
        for (const s of changed.filter(c => c.apply)) {
          task.output = `applying ${s.name} on ${targets[0].host}`
          await applySecret(deps, targets[0], s.name, next.get(s.name)!, current.get(s.name))
          applied.push(s.name)
        }
        for (const t of targets) {
          await runtime.writeSecrets(t, next, deps.signal)
          written.push(t)
        }
        for (const t of targets) {
          task.output = `restarting ${t.host} on the new values`
          // Only what runs restarts: a stopped instance stays stopped and picks the values up when started.
          const running = (await runtime.observe(t, deps.signal)).replicas.filter(r => r.process === 'up')
          for (const r of running) {
            const probe = await runtime.restart(t, r, deps.signal)
            if (!probe.ok) throw new Error(`${t.host}: ${r.service}-${r.index} failed its health check on the new values (${probe.error})`)
          }
        }
        for (const t of targets) await runtime.retireSecrets(t, deps.signal)
        outcome.result = 'rotated'
      } catch (error) {
        outcome.error = (error as Error).message
        task.output = 'putting the old values back'
        await restore(deps, plan.instance, written, applied, current, next).then(() => { outcome.result = 'restored' }, e => { outcome.error += `; restoring failed: ${(e as Error).message}` })
        throw error
      }
    },
  }))
}

async function applySecret(deps: DeployDeps, primary: Target, name: string, next: Secret, prev: Secret | undefined): Promise<void> {
  const spec = deps.fleet.spec.instances[primary.instance].secrets![name]
  const argv = typeof spec.apply === 'string' ? ['sh', '-c', spec.apply] : spec.apply!
  const r = await deps.runtimeFor(primary.instance).runTask(primary, argv, {in: 'current', env: applyEnv(name, next, prev), signal: deps.signal})
  if (r.code !== 0) throw new Error(`apply for ${name} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`)
}

/** The old env file back on every target that got the new one, the old values re-applied, the services restarted. */
async function restore(deps: DeployDeps, instance: string, written: Target[], applied: string[], prev: Map<string, Secret>, next: Map<string, Secret>): Promise<void> {
  const runtime = deps.runtimeFor(instance)
  const targets = targetsOf(deps.fleet, instance)
  for (const name of applied) {
    const old = prev.get(name)
    if (old) await applySecret({...deps, signal: undefined}, targets[0], name, old, next.get(name))
  }
  for (const t of written) {
    await runtime.restoreSecrets(t)
    for (const r of (await runtime.observe(t)).replicas.filter(x => x.process !== 'absent')) await runtime.restart(t, r)
  }
}

/** Before a deploy: every declared secret present on every target (missing ones copied, resolved or generated once). */
export async function ensureSecrets(deps: DeployDeps, instance: string, resolved: Map<string, Secret> | undefined, targets: Target[]): Promise<void> {
  const declared = deps.fleet.spec.instances[instance].secrets ?? {}
  if (Object.keys(declared).length === 0) return
  const runtime = deps.runtimeFor(instance)
  const held = await Promise.all(targets.map(t => runtime.readSecrets(t, deps.signal)))
  const values = new Map<string, Secret>()
  for (const [name, spec] of Object.entries(declared)) {
    const existing = held.find(h => h.has(name))?.get(name)
    const value = existing ?? resolved?.get(name) ?? (spec.source === 'generate' ? generateSecret(name, spec) : undefined)
    if (!value) throw new Error(`secret ${name} is not on the targets and its source (${spec.source} ${spec.name ?? name}) gave no value`)
    values.set(name, value)
  }
  await Promise.all(targets.map(async (t, i) => {
    if ([...values.keys()].every(k => held[i].has(k))) return
    await runtime.writeSecrets(t, new Map([...held[i], ...values]), deps.signal)
    await runtime.retireSecrets(t, deps.signal)
  }))
}
