import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../../base-command.js'
import {executePool, observePool, planPoolDown, poolAudit, poolFailure, selectPool, type PoolPlan, type RunnerOutcome} from '../../fleet/plan/pool.js'
import {renderPoolOutcome, renderPoolPlan} from '../../ui/cloud.js'

export interface DistDownResult {
  ok: boolean
  dryRun: boolean
  plan: PoolPlan
  runners: RunnerOutcome[]
  /** Machines with the pool's labels the provider still lists afterwards (0 when verified empty). */
  left?: number
  warnings: string[]
}

export default class DistDown extends FleetCommand<DistDownResult> {
  static summary = 'remove every runner of the pool'
  static description = 'Deletes each runner, then lists the pool again (through every page) until the provider reports none left, deleting again what remains. Exits 5 when something is still listed.'
  static examples = ['<%= config.bin %> dist:down --yes', '<%= config.bin %> dist:down --pool ci --dry-run']
  static flags = {
    pool: Flags.string({char: 'p', summary: 'the pool (default: the only one declared)'}),
    'dry-run': Flags.boolean({summary: 'show the plan and change nothing'}),
  }

  async run(): Promise<DistDownResult> {
    const {flags} = await this.parse(DistDown)
    const fleet = await this.loadFleet()
    const pool = selectPool(fleet, flags.pool)
    const cloud = await this.cloud(fleet)
    const plan = planPoolDown(fleet, cloud.fleetId, await observePool(fleet, pool, cloud))
    const dryRun = Boolean(flags['dry-run'])
    const outcome = await this.mutate(fleet, {summary: `remove all ${plan.have} runner(s) of pool ${pool}`, preview: renderPoolPlan(plan), dryRun, changes: plan.changes > 0},
      () => executePool(plan, fleet, cloud, (t, c, n) => this.runTasks(t, c, n), {sshTimeoutMs: 0, verify: true}), poolAudit)
    const failure = outcome && poolFailure(outcome)
    const result = {ok: !failure, dryRun, plan, runners: outcome?.runners ?? [], left: outcome ? outcome.left : dryRun ? undefined : 0, warnings: outcome?.warnings ?? []}
    const human = () => (outcome ? renderPoolOutcome(outcome) : dryRun ? 'dry run: nothing was changed' : `pool ${pool} has no runners; nothing to do`)
    return this.finish(result, human, failure)
  }
}
