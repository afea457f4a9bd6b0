import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {changeAudit, planRollback, rollbackInstanceTasks, type TargetChange} from '../fleet/plan/lifecycle.js'
import {selectInstances} from '../fleet/targets.js'
import {renderChanges} from '../ui/render.js'

export interface RollbackResult {
  ok: boolean
  dryRun: boolean
  targets: TargetChange[]
}

export default class Rollback extends FleetCommand<RollbackResult> {
  static summary = 'put an instance back on its previous healthy release'
  static examples = ['<%= config.bin %> rollback eu --yes', '<%= config.bin %> rollback eu --dry-run --json']
  static args = {instance: Args.string({description: 'the instance to roll back', required: true})}
  static flags = {'dry-run': Flags.boolean({summary: 'show what would change and change nothing'})}

  async run(): Promise<RollbackResult> {
    const {args, flags} = await this.parse(Rollback)
    const fleet = await this.loadFleet()
    const [instance] = selectInstances(fleet, [args.instance])
    const targets = planRollback((await this.observe(fleet, [instance]))[instance], instance)
    const deps = {fleet, runtimeFor: (i: string) => this.runtimes!.runtimeFor(i), sources: {}, signal: this.abort.signal}
    const preview = `plan: roll back ${instance}\n${renderChanges(targets)}`
    await this.mutate(fleet, {summary: `roll back ${instance}`, preview, dryRun: Boolean(flags['dry-run']), changes: true},
      async () => (await this.runTasks(rollbackInstanceTasks(targets, deps), {changes: targets})).ctx.changes, changeAudit)
    const failed = targets.filter(t => t.result === 'failed')
    return this.finish({ok: failed.length === 0, dryRun: Boolean(flags['dry-run']), targets}, () => renderChanges(targets), failed.length ? `rollback failed on ${failed.map(t => t.host).join(', ')}` : undefined)
  }
}
