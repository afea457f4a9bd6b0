import {formatAge, money} from '../fleet/cloud.js'
import type {ForgeOutcome, ForgePlan, ForgeStatus} from '../fleet/plan/forge.js'
import type {MachineRow} from '../fleet/plan/machines.js'
import type {PoolOutcome, PoolPlan, RunnerRow} from '../fleet/plan/pool.js'
import type {DecommissionPlan, HostOutcome, ProvisionPlan} from '../fleet/plan/provision.js'
import {paint, renderTable} from './table.js'

export function renderPoolPlan(plan: PoolPlan): string {
  const rows = [
    ...plan.create.map(n => [n, paint('create', 'green'), `${plan.size} in ${plan.region} from ${plan.image}`]),
    ...plan.remove.map(r => [r.name, paint('remove', 'red'), `${r.address ?? 'no address'}; ${r.reason}`]),
    ...plan.keep.map(n => [n, paint('keep', 'dim'), '']),
  ]
  const head = plan.changes === 0 ? `plan: pool ${plan.pool} already has ${plan.have} runner(s); nothing to do` : `plan: pool ${plan.pool} on ${plan.provider}: ${plan.have} -> ${plan.want} runner(s)`
  const quota = plan.quota === undefined || plan.create.length === 0 ? [] : [`  the account can create ${plan.quota} more machine(s)`]
  return rows.length ? [head, renderTable(['runner', 'action', 'detail'], rows), ...quota].join('\n') : head
}

export function renderPoolOutcome(o: PoolOutcome): string {
  const color = {created: 'green', removed: 'green', failed: 'red'} as const
  const table = o.runners.length ? renderTable(['runner', 'result', 'address', 'error'], o.runners.map(r => [r.name, paint(r.result, color[r.result]), r.address ?? '-', r.error ?? ''])) : 'nothing changed'
  const left = o.left === undefined ? [] : [o.left === 0 ? 'verified: no machine of the pool is left' : `${o.left} machine(s) of the pool are still listed`]
  return [table, ...left, ...o.warnings.map(w => `warning: ${w}`)].join('\n')
}

export function renderRunners(pool: string, rows: RunnerRow[]): string {
  if (rows.length === 0) return `pool ${pool}: no runners`
  const total = rows.reduce((sum, r) => sum + (r.costSoFar ?? 0), 0)
  const table = renderTable(['runner', 'state', 'address', 'type', 'age', 'idle', 'last used', '$/hour', 'cost so far'], rows.map(r => [
    r.name, r.state, r.address ?? '-', r.type, formatAge(r.ageMs), formatAge(r.idleMs), r.lastUsedAt ?? 'never', r.hourly === undefined ? '-' : r.hourly.toFixed(4), money(r.costSoFar)]))
  return `${table}\npool ${pool}: ${rows.length} runner(s), about ${money(total)} so far`
}

export function renderForgePlan(plan: ForgePlan): string {
  switch (plan.action) {
    case 'none': return plan.machine ? `plan: forge ${plan.forge} is up at ${plan.machine.address ?? '(no address)'}; nothing to do` : `plan: forge ${plan.forge} is parked${plan.snapshot ? ` as ${plan.snapshot.name}` : ''}; nothing to do`
    case 'create': return `plan: create forge ${plan.forge} on ${plan.provider} (${plan.size} in ${plan.region}) from ${plan.image}; no snapshot exists, so Forgejo is installed by cloud-init`
    case 'restore': return `plan: restore forge ${plan.forge} on ${plan.provider} (${plan.size} in ${plan.region}) from snapshot ${plan.snapshot!.name} (${plan.snapshot!.createdAt})`
    case 'park': return [`plan: park forge ${plan.forge}: snapshot ${plan.machine!.name} as ${plan.snapshotName}, wait until it is complete, then destroy the machine (${plan.machine!.id}, ${plan.machine!.address ?? 'no address'})`,
      ...(plan.prune.length ? [`  then delete older snapshot(s): ${plan.prune.map(s => s.name).join(', ')}`] : [])].join('\n')
  }
}

export function renderForgeOutcome(o: ForgeOutcome, alias: string): string {
  const at = o.address ? ` at ${o.address}` : ''
  const lines = o.state === 'running'
    ? [o.result === 'failed' ? `forge is still running${at}: ${o.error}` : `forge is running${at} (${o.result})`, ...(o.address ? [`  ssh -F .local/fleet/ssh_config ${alias}`] : [])]
    : [`forge is parked as snapshot ${o.snapshot?.name ?? '-'}${o.pruned.length ? `; deleted older snapshot(s) ${o.pruned.join(', ')}` : ''}`]
  return [...lines, ...o.warnings.map(w => `warning: ${w}`)].join('\n')
}

export function renderForgeStatus(s: ForgeStatus): string {
  const newest = s.snapshots[0]
  const rows: string[][] = [
    ['state', s.state === 'up' ? `up (${s.machineState})` : s.state],
    ['address', s.address ? `${s.address} (ssh alias ${s.alias})` : '-'],
    ['machine', `${s.type} in ${s.region} on ${s.provider}`],
    ['snapshot', newest ? `${newest.name}, ${formatAge(newest.ageMs)} old${s.snapshots.length > 1 ? ` (+${s.snapshots.length - 1} older)` : ''}` : 'none'],
    ['monthly while up', money(s.monthly.up, s.monthly.currency)],
    ['monthly while parked', money(s.monthly.parked, s.monthly.currency)],
  ]
  return renderTable(['forge', s.forge], rows)
}

export function renderProvisionPlan(plan: ProvisionPlan): string {
  if (plan.targets.length === 0) return 'plan: no host of this fleet is on a cloud provider; nothing to do'
  const head = plan.changes === 0 ? 'plan: every host exists; nothing to do' : `plan: create ${plan.changes} host(s)`
  return `${head}\n${renderTable(['host', 'provider', 'action', 'type', 'region', 'image'], plan.targets.map(t => [t.host, t.provider, t.action === 'create' ? paint('create', 'green') : paint('exists', 'dim'), t.type, t.region, t.image]))}`
}

export function renderHostOutcomes(outcomes: HostOutcome[]): string {
  const color = {created: 'green', exists: 'dim', failed: 'red'} as const
  return renderTable(['host', 'provider', 'result', 'address', 'error'], outcomes.map(o => [o.host, o.provider, paint(o.result, color[o.result]), o.address ?? '-', o.error ?? '']))
}

export function renderDecommissionPlan(plan: DecommissionPlan): string {
  if (plan.action === 'none') return `plan: ${plan.host} has no machine on ${plan.provider}; nothing to do`
  const m = plan.machine!
  return `plan: delete ${plan.host} on ${plan.provider} (id ${m.id}, ${m.type} in ${m.region}, ${m.address ?? 'no address'}) and its disk`
}

export function renderMachines(rows: MachineRow[]): string {
  if (rows.length === 0) return 'this fleet has no cloud machines'
  return renderTable(['machine', 'role', 'provider', 'state', 'type', 'location', 'address', 'age'], rows.map(r => [
    r.name, r.pool ? `runner (${r.pool})` : r.role, r.provider, r.state === 'absent' ? paint('absent', 'yellow') : r.state, r.type ?? '-', r.region ?? '-', r.address ?? '-',
    r.ageMs === undefined ? '-' : formatAge(r.ageMs)]))
}

export function renderChecks(checks: {check: string; ok: boolean; detail: string}[]): string {
  return renderTable(['check', 'result', 'detail'], checks.map(c => [c.check, c.ok ? paint('ok', 'green') : paint('FAIL', 'red'), c.detail]))
}
