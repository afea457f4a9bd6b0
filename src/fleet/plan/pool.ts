import path from 'node:path'
import type {ListrTask} from 'listr2'
import {UsageError} from '../../errors.js'
import type {Machine, MachineSpec, Provider} from '../../providers/types.js'
import {addressOf, ageOf, type CloudDeps, factsOf, fleetPath, hasLabels, keyWithoutComment, poolLabels, type ProviderFacts, requireCapabilities, type TaskRunner} from '../cloud.js'
import {toMs} from '../duration.js'
import {entryFor, markUsed, syncScope} from '../inventory.js'
import type {Fleet} from '../load.js'
import type {PoolSpec} from '../schema.js'
import type {Target} from '../targets.js'
import {renderTemplate} from '../template.js'

/** The pool a dist: command acts on: --pool NAME, or the only one declared. */
export function selectPool(fleet: Fleet, name?: string): string {
  const pools = Object.keys(fleet.spec.pools ?? {})
  const file = path.basename(fleet.file)
  if (name !== undefined && !pools.includes(name)) throw new UsageError(`unknown pool "${name}"`, `pools in ${file}: ${pools.join(', ') || 'none'}`)
  if (name !== undefined) return name
  if (pools.length === 0) throw new UsageError(`${file} declares no pools`, 'declare one, e.g. pools: {ci: {provider: do, size: s-2vcpu-4gb, region: fra1, image: ubuntu-24-04-x64}}')
  if (pools.length > 1) throw new UsageError(`${file} declares ${pools.length} pools; say which one`, `pass --pool ${pools[0]} (pools: ${pools.join(', ')})`)
  return pools[0]
}

/** What is true of a pool right now, read from its provider (and when each runner was last used, from the inventory). */
export interface PoolObservation {
  pool: string
  provider?: ProviderFacts
  runners: Machine[]
  /** How many more machines the account may create, when the provider says. */
  quota?: number
  /** The pool's image as the provider takes it: the id of the snapshot with that name, else the name (a public image). */
  imageRef: string
  /** Hourly price per machine type, where known. */
  hourly: Record<string, number>
  lastUsed: Record<string, string>
  now: number
}

export async function observePool(fleet: Fleet, pool: string, deps: CloudDeps, want: {quota?: boolean; image?: boolean; prices?: boolean} = {}): Promise<PoolObservation> {
  const spec = fleet.spec.pools![pool]
  const p = await deps.provider(spec.provider)
  const labels = poolLabels(deps.fleetId, pool, spec.tag)
  const [runners, quota, snapshots, inv] = await Promise.all([
    p?.machines?.list({labels}) ?? [],
    want.quota ? p?.machines?.remainingQuota?.() : undefined,
    want.image ? p?.snapshots?.list({namePrefix: spec.image}) : undefined,
    deps.readInventory(),
  ])
  const hourly: Record<string, number> = {}
  for (const m of runners) if (m.hourly !== undefined) hourly[m.type] = m.hourly
  if (want.prices && p?.cost) {
    for (const type of new Set(runners.filter(m => hourly[m.type] === undefined).map(m => m.type))) {
      const price = await p.cost.monthly(type, spec.region).catch(() => undefined)
      if (price) hourly[type] = price.hourly
    }
  }
  const lastUsed = Object.fromEntries(inv.machines.filter(e => e.role === 'runner' && e.lastUsedAt).map(e => [e.id, e.lastUsedAt!]))
  const snapshot = snapshots?.filter(s => s.name === spec.image).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0]
  return {pool, provider: p && factsOf(p), runners: runners.filter(m => hasLabels(m, labels)), quota, imageRef: snapshot?.id ?? spec.image, hourly, lastUsed, now: deps.now()}
}

export interface RunnerRow {
  name: string
  id: string
  state: string
  type: string
  region: string
  address?: string
  createdAt: string
  ageMs: number
  lastUsedAt?: string
  /** Since the last dist:run on it, or since it was created. */
  idleMs: number
  hourly?: number
  /** hourly × hours since creation: an estimate, providers bill in their own steps. */
  costSoFar?: number
}

export function runnerRows(obs: PoolObservation): RunnerRow[] {
  return sortRunners(obs.runners).map(m => {
    const ageMs = ageOf(m.createdAt, obs.now)
    const lastUsedAt = obs.lastUsed[m.id]
    const hourly = obs.hourly[m.type]
    return {name: m.name, id: m.id, state: m.state, type: m.type, region: m.region, address: addressOf(m), createdAt: m.createdAt, ageMs,
      lastUsedAt, idleMs: lastUsedAt ? ageOf(lastUsedAt, obs.now) : ageMs, hourly, costSoFar: hourly === undefined ? undefined : round2(hourly * ageMs / 3_600_000)}
  })
}

export interface PoolPlan {
  pool: string
  provider: string
  labels: Record<string, string>
  size: string
  region: string
  image: string
  imageRef: string
  /** Runners once the plan ran. */
  want: number
  have: number
  create: string[]
  remove: {name: string; id: string; address?: string; reason: string}[]
  keep: string[]
  quota?: number
  changes: number
  ssh: {port: number; user: string; identity?: string}
}

function basePlan(fleet: Fleet, obs: PoolObservation, fleetIdValue: string, size?: string): Omit<PoolPlan, 'want' | 'create' | 'remove' | 'keep' | 'changes'> {
  const spec = fleet.spec.pools![obs.pool]
  return {pool: obs.pool, provider: spec.provider, labels: poolLabels(fleetIdValue, obs.pool, spec.tag), size: size ?? spec.size, region: spec.region,
    image: spec.image, imageRef: obs.imageRef, have: obs.runners.length, quota: obs.quota, ssh: poolSsh(fleet, spec)}
}

export function poolSsh(fleet: Fleet, spec: PoolSpec): PoolPlan['ssh'] {
  return {port: spec.port ?? 22, user: spec.user ?? 'root', ...(spec.identity ? {identity: fleetPath(fleet, spec.identity)} : {})}
}

/**
 * The pool converges to `count` runners: missing ones are created under the lowest free names (<pool>-1, -2, ...),
 * extra ones are removed highest name first. Refused before anything runs when `count` exceeds the pool's max or
 * the account's remaining droplet/server quota.
 */
export function planPoolUp(fleet: Fleet, fleetIdValue: string, obs: PoolObservation, opts: {count: number; size?: string}): PoolPlan {
  const spec = fleet.spec.pools![obs.pool]
  requireCapabilities(obs.provider, spec.provider, ['machines', 'sshKeys'], `create runners for pool ${obs.pool}`)
  if (opts.count > spec.max) throw new UsageError(`pool ${obs.pool} may have at most ${spec.max} runners (pools.${obs.pool}.max); ${opts.count} were asked for`, `ask for at most ${spec.max}, or raise pools.${obs.pool}.max`)
  const alive = sortRunners(obs.runners.filter(m => m.state !== 'deleting'))
  const used = new Set(alive.map(m => m.name))
  const create: string[] = []
  for (let i = 1; create.length < opts.count - alive.length; i++) if (!used.has(`${obs.pool}-${i}`)) create.push(`${obs.pool}-${i}`)
  const extra = alive.slice(opts.count).reverse()
  if (obs.quota !== undefined && create.length > obs.quota) {
    throw new UsageError(`the ${spec.provider} account can create ${obs.quota} more machine(s) (its droplet limit), but pool ${obs.pool} needs ${create.length} more for ${opts.count}`,
      `ask for at most ${alive.length + obs.quota} runners, remove machines you do not need, or ask the provider to raise the limit`)
  }
  const remove = extra.map(m => ({name: m.name, id: m.id, address: addressOf(m), reason: `more than ${opts.count} runners`}))
  const keep = alive.slice(0, opts.count).map(m => m.name)
  return {...basePlan(fleet, obs, fleetIdValue, opts.size), want: opts.count, create, remove, keep, changes: create.length + remove.length}
}

/** Every runner of the pool goes. */
export function planPoolDown(fleet: Fleet, fleetIdValue: string, obs: PoolObservation): PoolPlan {
  const spec = fleet.spec.pools![obs.pool]
  requireCapabilities(obs.provider, spec.provider, ['machines'], `remove runners of pool ${obs.pool}`)
  const remove = sortRunners(obs.runners).reverse().map(m => ({name: m.name, id: m.id, address: addressOf(m), reason: 'dist:down'}))
  return {...basePlan(fleet, obs, fleetIdValue), want: 0, create: [], remove, keep: [], changes: remove.length}
}

/**
 * Runners idle for longer than the pool's `idle`: no dist:run reached them within it (by the inventory's lastUsedAt),
 * or, never used, they were created longer ago than that.
 */
export function planReap(fleet: Fleet, fleetIdValue: string, obs: PoolObservation, opts: {idleMs?: number} = {}): PoolPlan {
  const spec = fleet.spec.pools![obs.pool]
  requireCapabilities(obs.provider, spec.provider, ['machines'], `remove runners of pool ${obs.pool}`)
  const limit = opts.idleMs ?? toMs(spec.idle)
  const rows = runnerRows(obs)
  const idle = rows.filter(r => r.idleMs > limit)
  const remove = idle.map(r => ({name: r.name, id: r.id, address: r.address, reason: `idle ${Math.round(r.idleMs / 60_000)}m (${r.lastUsedAt ? `last used ${r.lastUsedAt}` : 'never used'}) > ${spec.idle}`}))
  const keep = rows.filter(r => !idle.includes(r)).map(r => r.name)
  return {...basePlan(fleet, obs, fleetIdValue), want: keep.length, create: [], remove, keep, changes: remove.length}
}

export interface RunnerOutcome {
  name: string
  id?: string
  address?: string
  result: 'created' | 'removed' | 'failed'
  error?: string
}

export interface PoolOutcome {
  runners: RunnerOutcome[]
  /** After dist:down: how many machines with the pool's labels the provider still lists. */
  left?: number
  /** Every error of the run; those not already on a runner (verifying, say) make it fail too. */
  errors: string[]
  warnings: string[]
}

interface PoolCtx {
  outcome: PoolOutcome
  created: Machine[]
}

/** Creates (one batched call), waits for ssh, removes, optionally verifies that nothing is left, then rewrites the inventory. */
export async function executePool(plan: PoolPlan, fleet: Fleet, deps: CloudDeps, run: TaskRunner, opts: {sshTimeoutMs: number; verify?: boolean}): Promise<PoolOutcome> {
  const p = (await deps.provider(plan.provider))!
  const ctx: PoolCtx = {outcome: {runners: [], errors: [], warnings: []}, created: []}
  const step = async (tasks: ListrTask<PoolCtx>[]) => {
    const {errors} = await run(tasks, ctx)
    ctx.outcome.errors.push(...errors.map(e => e.message))
  }
  try {
    if (plan.create.length > 0) await step(createTasks(plan, fleet, p, deps))
    if (ctx.created.length > 0) await step(waitTasks(plan, deps, ctx.created, opts.sshTimeoutMs))
    if (plan.remove.length > 0) await step(plan.remove.map(r => ({
      title: `remove ${r.name}${r.address ? ` (${r.address})` : ''}`,
      task: async () => {
        try {
          await p.machines!.delete(r.id)
          ctx.outcome.runners.push({name: r.name, id: r.id, address: r.address, result: 'removed'})
        } catch (error) {
          ctx.outcome.runners.push({name: r.name, id: r.id, address: r.address, result: 'failed', error: (error as Error).message})
          throw error
        }
      },
    })))
    if (opts.verify) await step([{title: `check that no machine of pool ${plan.pool} is left`, task: async (_c, task) => {
      ctx.outcome.left = await verifyGone(p, plan, deps, line => { task.output = line })
      if (ctx.outcome.left > 0) throw new Error(`${ctx.outcome.left} machine(s) of pool ${plan.pool} are still listed`)
    }}])
  } finally {
    await recordPool(plan, p, deps).catch(error => ctx.outcome.warnings.push(`the inventory was not updated: ${(error as Error).message}`))
  }
  return ctx.outcome
}

/** Why a pool change did not fully succeed, or undefined. */
export function poolFailure(o: PoolOutcome): string | undefined {
  const failed = o.runners.filter(r => r.result === 'failed')
  const parts = [...(failed.length ? [`${failed.length} runner(s) failed: ${failed.map(r => `${r.name} (${r.error})`).join('; ')}`] : []),
    ...new Set(o.errors.filter(e => !failed.some(r => r.error === e)))]
  return parts.length ? parts.join('; ') : undefined
}

export function poolAudit(o: PoolOutcome): {outcome: 'ok' | 'partial'; targets: {target: string; result: string; error?: string}[]} {
  return {outcome: poolFailure(o) ? 'partial' : 'ok', targets: o.runners.map(r => ({target: r.name, result: r.result, error: r.error}))}
}

/** Records the runners dist:run reached as used now, adding runners the inventory did not know yet. */
export async function recordRunnerUse(fleet: Fleet, pool: string, runners: Machine[], reached: string[], deps: CloudDeps): Promise<void> {
  const spec = fleet.spec.pools![pool]
  const at = new Date(deps.now()).toISOString()
  await deps.updateInventory(inv => {
    syncScope(inv, {role: 'runner', pool}, runners.map(m => entryFor(m, {role: 'runner', pool, provider: spec.provider, ...poolSsh(fleet, spec)})))
    markUsed(inv, runners.filter(m => reached.includes(m.name)).map(m => m.id), at)
  })
}

function createTasks(plan: PoolPlan, fleet: Fleet, p: Provider, deps: CloudDeps): ListrTask<PoolCtx>[] {
  const spec = fleet.spec.pools![plan.pool]
  return [{
    title: `create ${plan.create.length} runner(s) of pool ${plan.pool} on ${plan.provider} (${plan.size} in ${plan.region}): ${plan.create.join(', ')}`,
    task: async (ctx, task) => {
      try {
        task.output = 'uploading the ssh public key'
        const key = await deps.publicKey()
        const keyId = await p.sshKeys!.ensure(`fleet-${deps.fleetId}`, key)
        const tpl = await deps.template('runner.yaml', spec.cloud_init)
        const userData = renderTemplate(tpl.text, {fleet: deps.fleetId, pool: plan.pool, user: plan.ssh.user, port: plan.ssh.port, public_key: keyWithoutComment(key)}, tpl.name)
        const specs: MachineSpec[] = plan.create.map(name => ({name, type: plan.size, region: plan.region, image: plan.imageRef, sshKeys: [keyId], labels: plan.labels, userData}))
        task.output = `creating ${specs.length} machine(s)`
        ctx.created = await p.machines!.create(specs)
      } catch (error) {
        for (const name of plan.create) ctx.outcome.runners.push({name, result: 'failed', error: (error as Error).message})
        throw error
      }
    },
  }]
}

function waitTasks(plan: PoolPlan, deps: CloudDeps, created: Machine[], timeoutMs: number): ListrTask<PoolCtx>[] {
  return created.map(m => ({
    title: `${m.name}: wait for ssh on ${addressOf(m) ?? '(no address)'}:${plan.ssh.port}`,
    task: async ctx => {
      const address = addressOf(m)
      try {
        if (!address) throw new Error('the provider reports no public address')
        await deps.waitForSsh(m.name, address, plan.ssh.port, timeoutMs)
        ctx.outcome.runners.push({name: m.name, id: m.id, address, result: 'created'})
      } catch (error) {
        ctx.outcome.runners.push({name: m.name, id: m.id, address, result: 'failed', error: (error as Error).message})
        throw error
      }
    },
  }))
}

/**
 * Lists the pool until nothing of it is left (the list pages through everything; transient 5xx are retried by the
 * transport), deleting again what is still there and not already being deleted. Returns how many are left.
 */
async function verifyGone(p: Provider, plan: PoolPlan, deps: CloudDeps, say: (line: string) => void): Promise<number> {
  const waits = [0, 1000, 2000, 5000, 10_000, 20_000]
  let left: Machine[] = []
  for (const wait of waits) {
    if (wait) await deps.sleep(wait)
    left = await p.machines!.list({labels: plan.labels})
    if (left.length === 0) return 0
    say(`${left.length} still listed: ${left.map(m => m.name).join(', ')}`)
    for (const m of left.filter(m => m.state !== 'deleting')) await p.machines!.delete(m.id)
  }
  return left.length
}

/** Rewrites the pool's part of the inventory from the provider (after a run that changed nothing, it may still be stale or missing). */
export async function syncPool(plan: PoolPlan, deps: CloudDeps): Promise<void> {
  await recordPool(plan, (await deps.provider(plan.provider))!, deps)
}

async function recordPool(plan: PoolPlan, p: Provider, deps: CloudDeps): Promise<void> {
  const runners = await p.machines!.list({labels: plan.labels})
  await deps.updateInventory(inv => syncScope(inv, {role: 'runner', pool: plan.pool}, runners.map(m => entryFor(m, {role: 'runner', pool: plan.pool, provider: plan.provider, ...plan.ssh}))))
}

/** The ssh targets of the pool's runners that have an address, for dist:run. */
export function runnerTargets(plan: Pick<PoolPlan, 'ssh'>, runners: Machine[]): Target[] {
  return sortRunners(runners).filter(m => addressOf(m) && m.state === 'running').map(m => ({
    instance: '', host: m.name, runtime: 'ssh' as const, root: '.', bind: addressOf(m)!,
    ssh: {host: addressOf(m)!, port: plan.ssh.port, user: plan.ssh.user, identityFile: plan.ssh.identity},
  }))
}

function sortRunners(ms: Machine[]): Machine[] {
  return [...ms].sort((a, b) => a.name.localeCompare(b.name, undefined, {numeric: true}))
}

const round2 = (n: number) => Math.round(n * 100) / 100
