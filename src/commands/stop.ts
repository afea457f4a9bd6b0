import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {changeAudit, stopTasks, type ChangeCtx, type TargetChange} from '../fleet/plan/lifecycle.js'
import {selectInstances} from '../fleet/targets.js'
import {renderChanges} from '../ui/render.js'

export interface StopResult {
  ok: boolean
  targets: TargetChange[]
}

export default class Stop extends FleetCommand<StopResult> {
  static summary = 'stop every process of the selected instances'
  static examples = ['<%= config.bin %> stop --yes', '<%= config.bin %> stop eu --dry-run']
  static strict = false
  static args = {instance: Args.string({description: 'instances to stop (default: all)'})}
  static flags = {'dry-run': Flags.boolean({summary: 'show what would stop and change nothing'})}

  async run(): Promise<StopResult> {
    const {argv, flags} = await this.parse(Stop)
    const fleet = await this.loadFleet()
    const instances = selectInstances(fleet, argv as string[])
    const deps = {fleet, runtimeFor: (i: string) => this.runtimes!.runtimeFor(i), sources: {}, signal: this.abort.signal}
    await this.getRuntimes(fleet)
    const ctx: ChangeCtx = {changes: []}
    await this.mutate(fleet, {summary: `stop ${instances.join(', ')}`, preview: `plan: stop every replica of ${instances.join(', ')}`, dryRun: Boolean(flags['dry-run']), changes: true},
      async () => (await this.runTasks(stopTasks(instances, deps, ctx), ctx)).ctx.changes, changeAudit)
    const failed = ctx.changes.filter(c => c.result === 'failed')
    return this.finish({ok: failed.length === 0, targets: ctx.changes}, () => renderChanges(ctx.changes), failed.length ? `stop failed on ${failed.map(c => `${c.instance}@${c.host}`).join(', ')}` : undefined)
  }
}
