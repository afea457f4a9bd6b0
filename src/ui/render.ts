import type {DeployPlan, TargetOutcome} from '../fleet/plan/deploy.js'
import type {HostExecResult} from '../fleet/plan/exec.js'
import type {TargetChange} from '../fleet/plan/lifecycle.js'
import type {StatusRow} from '../fleet/status.js'
import {paint, renderTable} from './table.js'

export function renderDeployPlan(plan: DeployPlan): string {
  if (plan.instances.length === 0) return 'no instances selected'
  const rows = plan.instances.flatMap(i => i.targets.map(t => [i.instance, t.host, t.action, t.reason]))
  const head = plan.changes === 0 ? 'plan: nothing to do, every target is up to date' : `plan: ${plan.changes} target(s) to change`
  const notes = plan.instances.filter(i => i.migrateOn).map(i => `  ${i.instance}: migration runs once on ${i.migrateOn} after the release is in place and before traffic moves; the old release keeps serving on the new schema, so migrations must be backward compatible`)
  return [head, renderTable(['instance', 'host', 'action', 'why'], rows), ...notes].join('\n')
}

export function renderOutcomes(outcomes: TargetOutcome[]): string {
  const color: Record<TargetOutcome['result'], 'green' | 'red' | 'yellow' | 'dim'> = {deployed: 'green', restarted: 'green', unchanged: 'dim', failed: 'red', 'rolled-back': 'yellow', 'rollback-failed': 'red', skipped: 'yellow'}
  const rows = outcomes.map(o => [o.instance, o.host, paint(o.result, color[o.result]), o.from ?? '-', o.to, o.error ?? ''])
  return renderTable(['instance', 'host', 'result', 'from', 'to', 'error'], rows)
}

export function renderStatus(rows: StatusRow[], lock: string | undefined): string {
  const color = {ok: 'green', degraded: 'yellow', down: 'red', unreachable: 'red', 'not deployed': 'dim'} as const
  const table = renderTable(['instance', 'runtime', 'host', 'release', 'health', 'latency', 'replicas', 'lock'], rows.map(r => [
    r.instance, r.runtime, r.host, r.release ?? '-', paint(r.health, color[r.health]), r.latencyMs === null ? '-' : `${r.latencyMs} ms`,
    `${r.replicas.healthy}/${r.replicas.desired}`, lock ?? '-',
  ]))
  const problems = rows.filter(r => r.error && r.health !== 'ok').map(r => `  ${r.instance}@${r.host}: ${r.error}`)
  return problems.length ? `${table}\n${problems.join('\n')}` : table
}

export function renderChanges(changes: TargetChange[]): string {
  return renderTable(['instance', 'host', 'result', 'from', 'to', 'detail'], changes.map(c => [c.instance, c.host, paint(c.result, c.result === 'done' ? 'green' : 'red'), c.from ?? '-', c.to ?? '-', c.error ?? c.detail ?? '']))
}

export function renderExec(results: HostExecResult[], noun = 'host'): string {
  return renderTable([noun, 'exit', 'took', 'error'], results.map(h => [h.host, h.exitCode ?? '-', `${h.durationMs} ms`, h.error ?? '']))
}
