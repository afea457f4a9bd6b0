import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {planRotation, rotateTasks, type RotationCtx, type RotationOutcome} from '../fleet/plan/secrets.js'
import {selectInstances} from '../fleet/targets.js'
import {auditOf} from '../state/audit.js'
import {renderTable} from '../ui/table.js'

export interface RotateSecretsResult {
  ok: boolean
  dryRun: boolean
  instances: RotationOutcome[]
}

export default class RotateSecrets extends FleetCommand<RotateSecretsResult> {
  static summary = 'make new secret values, push them, restart health-gated, then retire the old ones'
  static description = 'No rebuild and no new release. Where a secret declares `apply` (e.g. a database password), that command changes it at its holder first. On any failure the old values are put back and the services restarted on them.'
  static examples = ['<%= config.bin %> rotate-secrets --yes', '<%= config.bin %> rotate-secrets eu --secret DB_PASSWORD --yes --json']
  static strict = false
  static args = {instance: Args.string({description: 'instances (default: all that declare secrets)'})}
  static flags = {
    secret: Flags.string({summary: 'rotate only this secret (repeatable)', multiple: true}),
    'dry-run': Flags.boolean({summary: 'show which secrets would rotate'}),
  }

  async run(): Promise<RotateSecretsResult> {
    const {argv, flags} = await this.parse(RotateSecrets)
    const fleet = await this.loadFleet()
    const instances = selectInstances(fleet, argv as string[])
    await this.getRuntimes(fleet)
    const deps = {fleet, runtimeFor: (i: string) => this.runtimes!.runtimeFor(i), sources: {}, signal: this.abort.signal}
    const plans = planRotation(deps, instances, flags.secret ?? [])
    const preview = renderTable(['instance', 'secret', 'source', 'applied at its holder first'], plans.flatMap(p => p.secrets.map(s => [p.instance, s.name, s.source, s.apply ? 'yes' : 'no'])))
    const resolved = flags['dry-run'] ? {} : await this.resolveSecrets(fleet, plans.map(p => p.instance), {only: flags.secret, strict: true})
    const ctx: RotationCtx = {outcomes: []}
    await this.mutate(fleet, {summary: `rotate secrets of ${plans.map(p => p.instance).join(', ')}`, preview: `plan:\n${preview}`, dryRun: Boolean(flags['dry-run']), changes: plans.length > 0},
      async () => (await this.runTasks(rotateTasks(plans, resolved, deps), ctx)).ctx.outcomes,
      o => auditOf(o, x => x.result === 'rotated' || x.result === 'unchanged', x => ({target: x.instance, result: `${x.result} ${x.secrets.join(',')}`, error: x.error})))
    const failed = ctx.outcomes.filter(o => o.result === 'failed' || o.result === 'restored')
    const human = () => (ctx.outcomes.length ? renderTable(['instance', 'secrets', 'result', 'error'], ctx.outcomes.map(o => [o.instance, o.secrets.join(', '), o.result, o.error ?? ''])) : 'nothing rotated')
    return this.finish({ok: failed.length === 0, dryRun: Boolean(flags['dry-run']), instances: ctx.outcomes}, human, failed.length ? `rotation failed on ${failed.map(o => `${o.instance} (${o.error})`).join('; ')}; the old values are back` : undefined)
  }
}
