import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../../base-command.js'
import {executePool, observePool, planReap, poolAudit, poolFailure, selectPool, type PoolPlan, type RunnerOutcome} from '../../fleet/plan/pool.js'
import {renderPoolOutcome, renderPoolPlan} from '../../ui/cloud.js'

export interface DistReapResult {
  ok: boolean
  dryRun: boolean
  plan: PoolPlan
  runners: RunnerOutcome[]
  warnings: string[]
}

export default class DistReap extends FleetCommand<DistReapResult> {
  static summary = 'remove runners that have been idle longer than the pool\'s idle timeout'
  static description = 'A runner is idle since the last dist:run that reached it (recorded in .local/fleet/inventory), or since it was created when no dist:run ever did. Run it from cron to scale the pool to zero.'
  static examples = ['<%= config.bin %> dist:reap --yes', '<%= config.bin %> dist:reap --pool ci --dry-run --json']
  static flags = {
    pool: Flags.string({char: 'p', summary: 'the pool (default: the only one declared)'}),
    'dry-run': Flags.boolean({summary: 'show which runners would go and change nothing'}),
  }

  async run(): Promise<DistReapResult> {
    const {flags} = await this.parse(DistReap)
    const fleet = await this.loadFleet()
    const pool = selectPool(fleet, flags.pool)
    const cloud = await this.cloud(fleet)
    const plan = planReap(fleet, cloud.fleetId, await observePool(fleet, pool, cloud))
    const dryRun = Boolean(flags['dry-run'])
    const outcome = await this.mutate(fleet, {summary: `remove ${plan.remove.length} idle runner(s) of pool ${pool}`, preview: renderPoolPlan(plan), dryRun, changes: plan.changes > 0},
      () => executePool(plan, fleet, cloud, (t, c, n) => this.runTasks(t, c, n), {sshTimeoutMs: 0}), poolAudit)
    const failure = outcome && poolFailure(outcome)
    const result = {ok: !failure, dryRun, plan, runners: outcome?.runners ?? [], warnings: outcome?.warnings ?? []}
    const human = () => (outcome ? renderPoolOutcome(outcome) : dryRun ? 'dry run: nothing was changed' : `no runner of pool ${pool} is idle longer than ${fleet.spec.pools![pool].idle}`)
    return this.finish(result, human, failure)
  }
}
