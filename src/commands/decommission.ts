import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {UsageError} from '../errors.js'
import {decommissionProvider, executeDecommission, observeDecommission, planDecommission, type DecommissionPlan} from '../fleet/plan/provision.js'
import {renderDecommissionPlan} from '../ui/cloud.js'

export interface DecommissionResult {
  ok: boolean
  dryRun: boolean
  plan: DecommissionPlan
  deleted: boolean
}

export default class Decommission extends FleetCommand<DecommissionResult> {
  static summary = 'delete the cloud machine of a host, and its disk'
  static description = 'Only a machine labeled as this fleet\'s (fleet=<fleet>, fleet-host=<host>) is ever deleted; a machine of the same name without those labels is refused. Needs --yes even in a terminal: the disk is gone afterwards.'
  static examples = ['<%= config.bin %> decommission web-3 --yes', '<%= config.bin %> decommission web-3 --dry-run']
  static args = {host: Args.string({description: 'the host', required: true})}
  static flags = {'dry-run': Flags.boolean({summary: 'show what would be deleted and change nothing'})}

  async run(): Promise<DecommissionResult> {
    const {args, flags} = await this.parse(Decommission)
    const dryRun = Boolean(flags['dry-run'])
    const fleet = await this.loadFleet()
    const cloud = await this.cloud(fleet)
    const plan = planDecommission(args.host, await observeDecommission(fleet, cloud, args.host, await decommissionProvider(fleet, cloud, args.host)))
    if (!dryRun && plan.changes > 0 && !this.flagsBase.yes) {
      throw new UsageError(`refusing to decommission ${args.host} without --yes: ${renderDecommissionPlan(plan).replace(/^plan: /, '')}`, `run: fleet decommission ${args.host} --yes (or --dry-run to only see the plan)`)
    }
    const outcome = await this.mutate(fleet, {summary: `decommission ${args.host}`, preview: renderDecommissionPlan(plan), dryRun, changes: plan.changes > 0},
      () => executeDecommission(plan, cloud, (t, c, n) => this.runTasks(t, c, n)),
      o => ({outcome: o.deleted ? 'ok' : 'failed', targets: [{target: args.host, result: o.deleted ? 'deleted' : 'failed', error: o.error}]}))
    const human = () => (outcome?.deleted ? `${args.host} deleted` : dryRun ? 'dry run: nothing was changed' : outcome ? `${args.host} was not deleted: ${outcome.error}` : renderDecommissionPlan(plan).replace(/^plan: /, ''))
    return this.finish({ok: !outcome?.error, dryRun, plan, deleted: Boolean(outcome?.deleted)}, human, outcome?.error ? `decommission ${args.host} failed: ${outcome.error}` : undefined)
  }
}
