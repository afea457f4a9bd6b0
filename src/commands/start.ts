import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {changeAudit, startTasks, type ChangeCtx, type TargetChange} from '../fleet/plan/lifecycle.js'
import {selectInstances} from '../fleet/targets.js'
import {renderChanges} from '../ui/render.js'

export interface StartResult {
  ok: boolean
  targets: TargetChange[]
}

export default class Start extends FleetCommand<StartResult> {
  static summary = 'start the stopped replicas of the selected instances on their current release'
  static examples = ['<%= config.bin %> start --yes', '<%= config.bin %> start eu --yes --json']
  static strict = false
  static args = {instance: Args.string({description: 'instances to start (default: all)'})}
  static flags = {'dry-run': Flags.boolean({summary: 'show what would start and change nothing'})}

  async run(): Promise<StartResult> {
    const {argv, flags} = await this.parse(Start)
    const fleet = await this.loadFleet()
    const instances = selectInstances(fleet, argv as string[])
    const deps = {fleet, runtimeFor: (i: string) => this.runtimes!.runtimeFor(i), sources: {}, signal: this.abort.signal}
    await this.getRuntimes(fleet)
    const ctx: ChangeCtx = {changes: []}
    await this.mutate(fleet, {summary: `start ${instances.join(', ')}`, preview: `plan: start the declared replicas of ${instances.join(', ')}`, dryRun: Boolean(flags['dry-run']), changes: true},
      async () => (await this.runTasks(startTasks(instances, deps, ctx), ctx)).ctx.changes, changeAudit)
    const failed = ctx.changes.filter(c => c.result === 'failed')
    return this.finish({ok: failed.length === 0, targets: ctx.changes}, () => renderChanges(ctx.changes), failed.length ? `start failed on ${failed.map(c => `${c.instance}@${c.host}`).join(', ')}` : undefined)
  }
}
