import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../../base-command.js'
import {executePool, observePool, planPoolUp, poolAudit, poolFailure, selectPool, syncPool, type PoolPlan, type RunnerOutcome} from '../../fleet/plan/pool.js'
import {renderPoolOutcome, renderPoolPlan} from '../../ui/cloud.js'

export interface DistUpResult {
  ok: boolean
  dryRun: boolean
  plan: PoolPlan
  runners: RunnerOutcome[]
  warnings: string[]
}

export default class DistUp extends FleetCommand<DistUpResult> {
  static summary = 'bring the runner pool to N runners'
  static description = 'Idempotent: missing runners are created (in batches of at most 10 per API call on DigitalOcean) and waited for until sshd answers; extra ones are removed, highest name first. Refused before anything runs when N exceeds the pool\'s max or the account\'s remaining machine quota.'
  static examples = ['<%= config.bin %> dist:up 3 --yes', '<%= config.bin %> dist:up 5 s-4vcpu-8gb --pool ci --dry-run', '<%= config.bin %> dist:up 0 --yes --json']
  static args = {
    count: Args.integer({description: 'how many runners the pool should have', default: 1, min: 0}),
    size: Args.string({description: 'machine type for new runners (default: the pool\'s size)'}),
  }

  static flags = {
    pool: Flags.string({char: 'p', summary: 'the pool (default: the only one declared)'}),
    'dry-run': Flags.boolean({summary: 'show the plan and change nothing'}),
    'ssh-timeout': Flags.integer({summary: 'seconds a new runner may take until its sshd answers', default: 300, min: 1}),
  }

  async run(): Promise<DistUpResult> {
    const {args, flags} = await this.parse(DistUp)
    const fleet = await this.loadFleet()
    const pool = selectPool(fleet, flags.pool)
    const cloud = await this.cloud(fleet)
    const plan = planPoolUp(fleet, cloud.fleetId, await observePool(fleet, pool, cloud, {quota: true, image: true}), {count: args.count, size: args.size})
    const dryRun = Boolean(flags['dry-run'])
    const outcome = await this.mutate(fleet, {summary: `bring pool ${pool} to ${args.count} runner(s)`, preview: renderPoolPlan(plan), dryRun, changes: plan.changes > 0},
      () => executePool(plan, fleet, cloud, (t, c, n) => this.runTasks(t, c, n), {sshTimeoutMs: flags['ssh-timeout'] * 1000}), poolAudit)
    if (!outcome && !dryRun) await syncPool(plan, cloud)
    const failure = outcome && poolFailure(outcome)
    const result = {ok: !failure, dryRun, plan, runners: outcome?.runners ?? [], warnings: outcome?.warnings ?? []}
    const human = () => (outcome ? renderPoolOutcome(outcome) : dryRun ? 'dry run: nothing was changed' : `pool ${pool} has ${plan.have} runner(s); nothing to do`)
    return this.finish(result, human, failure)
  }
}
