import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {parseScale, planScale, scaledFleet, scaleTasks, type ScalePlan} from '../fleet/plan/scale.js'
import {selectInstances} from '../fleet/targets.js'
import {auditOf} from '../state/audit.js'
import {updateFleetFile} from '../state/fleet-file.js'
import {renderTable} from '../ui/table.js'

export interface ScaleResult {
  ok: boolean
  dryRun: boolean
  plan: ScalePlan
  fileUpdated: boolean
}

export default class Scale extends FleetCommand<ScaleResult> {
  static summary = 'change how many replicas of a service run on every target of an instance'
  static description = 'New replicas start on the current release and must pass their health check; extra ones stop highest first, draining (TERM, then a grace period). The new count is written back to the fleet file so the next deploy keeps it.'
  static examples = ['<%= config.bin %> scale eu web=3 --yes', '<%= config.bin %> scale eu web=1 --dry-run --json', '<%= config.bin %> scale ci 4 --yes   # a runner pool: the same as dist:up 4 --pool ci']
  static strict = false
  static args = {instance: Args.string({description: 'the instance (or a runner pool)', required: true}), counts: Args.string({description: 'SERVICE=COUNT pairs (for a pool: the number of runners)'})}
  static flags = {'dry-run': Flags.boolean({summary: 'show what would start and stop'})}

  async run(): Promise<ScaleResult> {
    const {args, argv, flags} = await this.parse(Scale)
    const fleet = await this.loadFleet()
    if (!fleet.spec.instances[args.instance] && fleet.spec.pools?.[args.instance]) {
      // A pool scales exactly like dist:up, which prints its own result.
      const pass = [...(flags['dry-run'] ? ['--dry-run'] : []), ...(this.flagsBase.yes ? ['--yes'] : []), ...(this.jsonEnabled() ? ['--json'] : []), '--file', this.flagsBase.file]
      await this.config.runCommand('dist:up', [String(args.counts ?? ''), '--pool', args.instance, ...pass])
      return undefined as never
    }
    const [instance] = selectInstances(fleet, [args.instance])
    const plan = planScale(fleet, instance, parseScale(fleet, instance, (argv as string[]).slice(1)), (await this.observe(fleet, [instance]))[instance])
    const deps = {fleet: scaledFleet(fleet, instance, plan.changes), runtimeFor: (i: string) => this.runtimes!.runtimeFor(i), sources: {}, signal: this.abort.signal}
    const rows = () => plan.targets.map(t => [t.host, t.start.map(r => `${r.service}-${r.index}`).join(' ') || '-', t.stop.map(r => `${r.service}-${r.index}`).join(' ') || '-', t.result ?? '', t.error ?? ''])
    const table = () => renderTable(['host', 'start', 'stop (highest first)', 'result', 'error'], rows())
    const changes = plan.changes.some(c => c.from !== c.to)
    await this.mutate(fleet, {summary: `scale ${instance} ${plan.changes.map(c => `${c.service}=${c.to}`).join(' ')}`, preview: `plan:\n${table()}`, dryRun: Boolean(flags['dry-run']), changes},
      async () => (await this.runTasks(scaleTasks(plan, deps), {plan})).ctx.plan,
      p => auditOf(p.targets, t => t.result === 'done', t => ({target: `${instance}@${t.host}`, result: t.result ?? 'skipped', error: t.error})))
    const ok = plan.targets.every(t => t.result === 'done')
    const fileUpdated = changes && ok && !flags['dry-run']
    if (fileUpdated) await updateFleetFile(fleet.file, plan.changes.map(c => ({path: ['instances', instance, 'services', c.service, 'replicas'], value: c.to})))
    return this.finish({ok: ok || Boolean(flags['dry-run']) || !changes, dryRun: Boolean(flags['dry-run']), plan, fileUpdated}, () => `${table()}${fileUpdated ? `\n${this.flagsBase.file} updated` : ''}`, !ok && changes && !flags['dry-run'] ? `scale failed on ${plan.targets.filter(t => t.result !== 'done').map(t => t.host).join(', ')}` : undefined)
  }
}
