import path from 'node:path'
import type {ListrTask} from 'listr2'
import {UsageError} from '../../errors.js'
import type {Machine, Provider, Snapshot} from '../../providers/types.js'
import {addressOf, ageOf, type CloudDeps, describeLabels, factsOf, fleetPath, forgeLabels, hasLabels, keyWithoutComment, type ProviderFacts, requireCapabilities, type TaskRunner} from '../cloud.js'
import {entryFor, syncScope} from '../inventory.js'
import type {Fleet} from '../load.js'
import type {ForgeSpec} from '../schema.js'
import {renderTemplate} from '../template.js'

export function forgeSpec(fleet: Fleet): ForgeSpec {
  const forge = fleet.spec.forge
  if (!forge) throw new UsageError(`${path.basename(fleet.file)} declares no forge`, 'declare one, e.g. forge: {provider: hetzner, name: forge, size: cx22, region: fsn1, image: ubuntu-24.04}')
  return forge
}

export interface ForgeObservation {
  provider?: ProviderFacts
  /** The forge machine: carries this fleet's forge labels. */
  machine?: Machine
  /** A machine with the forge's name that is not this fleet's. */
  stranger?: Machine
  /** This forge's snapshots, newest first. */
  snapshots: Snapshot[]
  prices?: {machineMonthly?: number; snapshotsMonthly?: number; currency?: string}
  now: number
}

export async function observeForge(fleet: Fleet, deps: CloudDeps, want: {prices?: boolean} = {}): Promise<ForgeObservation> {
  const forge = forgeSpec(fleet)
  const p = await deps.provider(forge.provider)
  const labels = forgeLabels(deps.fleetId, forge.name)
  const [mine, snapshots] = await Promise.all([p?.machines?.list({labels}) ?? [], p?.snapshots?.list({labels}) ?? []])
  const machine = mine.filter(m => hasLabels(m, labels) && m.state !== 'deleting')[0]
  const named = machine || !p?.machines ? undefined : await p.machines.get(forge.name)
  const stranger = named && !hasLabels(named, labels) ? named : undefined
  const sorted = snapshots.filter(s => hasLabels(s, labels)).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.name.localeCompare(a.name))
  let prices: ForgeObservation['prices']
  if (want.prices && p?.cost) {
    const price = await p.cost.monthly(forge.size, forge.region).catch(() => undefined)
    const perSnapshot = await Promise.all(sorted.map(s => p.cost!.snapshotMonthly?.(s.sizeGb ?? 0).catch(() => undefined)))
    const snapshotsMonthly = perSnapshot.every(n => n !== undefined) ? round2(perSnapshot.reduce((a, b) => a! + b!, 0)!) : undefined
    prices = {machineMonthly: price?.monthly, snapshotsMonthly, currency: price?.currency}
  }
  return {provider: p && factsOf(p), machine, stranger, snapshots: sorted, prices, now: deps.now()}
}

export interface ForgePlan {
  forge: string
  provider: string
  alias: string
  labels: Record<string, string>
  action: 'none' | 'create' | 'restore' | 'park'
  /** up: the image the machine is created from (a snapshot id on restore). */
  image?: string
  snapshot?: {id: string; name: string; createdAt: string}
  machine?: {id: string; name: string; address?: string}
  /** park: the new snapshot's name, and the older snapshots deleted once it is complete. */
  snapshotName?: string
  prune: {id: string; name: string; createdAt: string}[]
  size: string
  region: string
  ssh: {port: number; user: string; identity?: string}
  changes: number
}

function base(fleet: Fleet, fleetIdValue: string, obs: ForgeObservation, what: string): Omit<ForgePlan, 'action' | 'changes' | 'prune'> {
  const forge = forgeSpec(fleet)
  requireCapabilities(obs.provider, forge.provider, ['machines', 'snapshots', 'sshKeys'], what)
  if (obs.stranger) {
    throw new UsageError(`a machine named ${forge.name} (id ${obs.stranger.id}) exists on ${forge.provider} but is not this fleet's forge (${describeLabels(obs.stranger.labels)})`,
      'rename the forge (forge.name) or remove that machine yourself; fleet never touches machines without its labels')
  }
  const m = obs.machine
  return {forge: forge.name, provider: forge.provider, alias: forge.alias ?? forge.name, labels: forgeLabels(fleetIdValue, forge.name), size: forge.size,
    region: forge.region, ssh: {port: forge.port ?? 22, user: forge.user ?? 'root', ...(forge.identity ? {identity: fleetPath(fleet, forge.identity)} : {})},
    ...(m ? {machine: {id: m.id, name: m.name, address: addressOf(m)}} : {})}
}

/** Up: nothing when it runs; else from the newest snapshot; else a fresh machine from the base image with Forgejo's cloud-init. */
export function planForgeUp(fleet: Fleet, fleetIdValue: string, obs: ForgeObservation): ForgePlan {
  const b = base(fleet, fleetIdValue, obs, 'host the forge')
  if (obs.machine) return {...b, action: 'none', prune: [], changes: 0}
  const newest = obs.snapshots[0]
  if (newest) return {...b, action: 'restore', image: newest.id, snapshot: pick(newest), prune: [], changes: 1}
  return {...b, action: 'create', image: forgeSpec(fleet).image, prune: [], changes: 1}
}

/** Down: snapshot, wait for it to complete, only then destroy; afterwards keep the newest `keep` snapshots. */
export function planForgeDown(fleet: Fleet, fleetIdValue: string, obs: ForgeObservation): ForgePlan {
  const b = base(fleet, fleetIdValue, obs, 'park the forge')
  if (!obs.machine) return {...b, action: 'none', ...(obs.snapshots[0] ? {snapshot: pick(obs.snapshots[0])} : {}), prune: [], changes: 0}
  const keep = forgeSpec(fleet).keep
  return {...b, action: 'park', snapshotName: `${b.forge}-${stamp(obs.now)}`, prune: obs.snapshots.slice(Math.max(0, keep - 1)).map(pick), changes: 1}
}

export interface ForgeOutcome {
  result: 'up' | 'created' | 'restored' | 'parked' | 'failed'
  /** Where the forge is after the command: running (with its address) or parked as a snapshot. */
  state: 'running' | 'parked'
  address?: string
  machine?: {id: string; name: string}
  snapshot?: {id: string; name: string; createdAt: string}
  pruned: string[]
  error?: string
  warnings: string[]
}

interface ForgeCtx {
  outcome: ForgeOutcome
  machine?: Machine
}

export async function executeForgeUp(plan: ForgePlan, fleet: Fleet, deps: CloudDeps, run: TaskRunner, opts: {sshTimeoutMs: number}): Promise<ForgeOutcome> {
  const p = (await deps.provider(plan.provider))!
  const ctx: ForgeCtx = {outcome: {result: 'failed', state: 'parked', pruned: [], warnings: []}}
  const tasks: ListrTask<ForgeCtx>[] = [{
    title: plan.action === 'restore' ? `create ${plan.forge} from snapshot ${plan.snapshot!.name}` : `create ${plan.forge} from ${plan.image} with Forgejo's cloud-init`,
    task: async (c, task) => {
      task.output = 'uploading the ssh public key'
      const key = await deps.publicKey()
      const keyId = await p.sshKeys!.ensure(`fleet-${deps.fleetId}`, key)
      // A restored disk is already set up; running the install again on first boot would only fight it.
      const userData = plan.action === 'create' ? await forgeUserData(fleet, plan, deps, key) : undefined
      task.output = `creating ${plan.size} in ${plan.region}`
      ;[c.machine] = await p.machines!.create([{name: plan.forge, type: plan.size, region: plan.region, image: plan.image!, sshKeys: [keyId], labels: plan.labels, userData}])
      c.outcome.state = 'running'
      c.outcome.machine = {id: c.machine.id, name: c.machine.name}
      c.outcome.address = addressOf(c.machine)
    },
  }, {
    title: `wait for ssh on the forge (port ${plan.ssh.port})`,
    enabled: c => c.machine !== undefined,
    task: async c => {
      if (!c.outcome.address) throw new Error('the provider reports no public address')
      await deps.waitForSsh(plan.forge, c.outcome.address, plan.ssh.port, opts.sshTimeoutMs)
      c.outcome.result = plan.action === 'restore' ? 'restored' : 'created'
    },
  }]
  const {errors} = await run(tasks, ctx, 1)
  if (errors.length) ctx.outcome.error = errors.map(e => e.message).join('; ')
  if (plan.action === 'restore') ctx.outcome.snapshot = plan.snapshot
  await recordForge(plan, p, deps).catch(error => ctx.outcome.warnings.push(`the inventory was not updated: ${(error as Error).message}`))
  return ctx.outcome
}

/**
 * Snapshot first and wait until the provider reports it complete and lists it; only then destroy the machine. A failed
 * snapshot ends the run with the forge still running.
 */
export async function executeForgeDown(plan: ForgePlan, deps: CloudDeps, run: TaskRunner): Promise<ForgeOutcome> {
  const p = (await deps.provider(plan.provider))!
  const m = plan.machine!
  const ctx: ForgeCtx = {outcome: {result: 'failed', state: 'running', address: m.address, machine: {id: m.id, name: m.name}, pruned: [], warnings: []}}
  const snapshotted = (c: ForgeCtx) => c.outcome.snapshot !== undefined
  const tasks: ListrTask<ForgeCtx>[] = [{
    title: `snapshot ${plan.forge} as ${plan.snapshotName} and wait until it is complete`,
    task: async c => {
      const s = await p.snapshots!.create(m.id, plan.snapshotName!, plan.labels)
      const listed = (await p.snapshots!.list({labels: plan.labels})).find(x => x.id === s.id)
      if (!listed) throw new Error(`snapshot ${s.name} (${s.id}) completed but is not listed with the forge's labels`)
      c.outcome.snapshot = pick(listed)
    },
  }, {
    title: `destroy the forge machine ${m.name} (${m.id})`,
    enabled: snapshotted,
    task: async c => {
      await p.machines!.delete(m.id)
      c.outcome.state = 'parked'
      c.outcome.result = 'parked'
      c.outcome.address = undefined
    },
  }, {
    title: `delete ${plan.prune.length} older snapshot(s), keeping the newest`,
    enabled: c => snapshotted(c) && plan.prune.length > 0,
    task: async c => {
      for (const s of plan.prune) {
        await p.snapshots!.delete(s.id).then(() => c.outcome.pruned.push(s.name), (error: Error) => c.outcome.warnings.push(`snapshot ${s.name} was not deleted: ${error.message}`))
      }
    },
  }]
  const {errors} = await run(tasks, ctx, 1)
  if (errors.length) ctx.outcome.error = errors.map(e => e.message).join('; ')
  await recordForge(plan, p, deps).catch(error => ctx.outcome.warnings.push(`the inventory was not updated: ${(error as Error).message}`))
  return ctx.outcome
}

async function forgeUserData(fleet: Fleet, plan: ForgePlan, deps: CloudDeps, key: string): Promise<string> {
  const tpl = await deps.template('forgejo.yaml', forgeSpec(fleet).cloud_init)
  return renderTemplate(tpl.text, {fleet: deps.fleetId, name: plan.forge, domain: plan.alias, user: plan.ssh.user, port: plan.ssh.port,
    public_key: keyWithoutComment(key)}, tpl.name)
}

/** Rewrites the forge's part of the inventory and ssh config from the provider, e.g. after a forge:up that found it running. */
export async function syncForge(plan: ForgePlan, deps: CloudDeps): Promise<void> {
  await recordForge(plan, (await deps.provider(plan.provider))!, deps)
}

async function recordForge(plan: ForgePlan, p: Provider, deps: CloudDeps): Promise<void> {
  const [machines, snapshots] = await Promise.all([p.machines!.list({labels: plan.labels}), p.snapshots!.list({labels: plan.labels})])
  await deps.updateInventory(inv => {
    syncScope(inv, {role: 'forge'}, machines.filter(m => m.state !== 'deleting').map(m => entryFor(m, {role: 'forge', provider: plan.provider, ...plan.ssh})))
    inv.snapshots = [...inv.snapshots.filter(s => s.forge !== plan.forge),
      ...snapshots.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map(s => ({forge: plan.forge, provider: plan.provider, ...pick(s), sizeGb: s.sizeGb}))]
  })
}

export interface ForgeStatus {
  forge: string
  provider: string
  state: 'up' | 'parked' | 'absent'
  machineState?: string
  address?: string
  alias: string
  type: string
  region: string
  snapshots: {name: string; createdAt: string; ageMs: number; sizeGb?: number}[]
  /** Monthly cost while up (machine + stored snapshots) and while parked (snapshots only). */
  monthly: {up?: number; parked?: number; currency?: string}
}

export function forgeStatus(fleet: Fleet, obs: ForgeObservation): ForgeStatus {
  const forge = forgeSpec(fleet)
  const snap = obs.prices?.snapshotsMonthly
  const machine = obs.prices?.machineMonthly
  return {
    forge: forge.name, provider: forge.provider, state: obs.machine ? 'up' : obs.snapshots.length ? 'parked' : 'absent', machineState: obs.machine?.state,
    address: obs.machine && addressOf(obs.machine), alias: forge.alias ?? forge.name, type: obs.machine?.type ?? forge.size, region: obs.machine?.region ?? forge.region,
    snapshots: obs.snapshots.map(s => ({name: s.name, createdAt: s.createdAt, ageMs: ageOf(s.createdAt, obs.now), sizeGb: s.sizeGb})),
    monthly: {up: machine === undefined ? undefined : round2(machine + (snap ?? 0)), parked: snap, currency: obs.prices?.currency},
  }
}

const pick = (s: {id: string; name: string; createdAt: string}) => ({id: s.id, name: s.name, createdAt: s.createdAt})
const round2 = (n: number) => Math.round(n * 100) / 100

/** 20260102-030405 (UTC): sortable, and a valid part of a snapshot name on every provider. */
function stamp(now: number): string {
  return new Date(now).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
}
