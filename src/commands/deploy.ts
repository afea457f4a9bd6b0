import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {deployAudit, executeDeploy, planDeploy, type DeployPlan, type TargetOutcome} from '../fleet/plan/deploy.js'
import {selectInstances} from '../fleet/targets.js'
import {renderDeployPlan, renderOutcomes} from '../ui/render.js'

export interface DeployResult {
  ok: boolean
  dryRun: boolean
  plan: DeployPlan
  targets: TargetOutcome[]
}

export default class Deploy extends FleetCommand<DeployResult> {
  static summary = 'deploy the current release to every selected instance'
  static description = 'Instances deploy in parallel; the targets of one instance roll in batches of rollout.boot. If any target fails its health check, every target of this deploy that already switched goes back to its previous release.'
  static examples = ['<%= config.bin %> deploy --yes', '<%= config.bin %> deploy eu us --dry-run', '<%= config.bin %> deploy eu --force --yes --json']
  static strict = false
  static args = {instance: Args.string({description: 'instances to deploy (default: all)'})}
  static flags = {
    'dry-run': Flags.boolean({summary: 'show the plan and change nothing'}),
    force: Flags.boolean({summary: 'redeploy and restart even where the release is already current'}),
  }

  async run(): Promise<DeployResult> {
    const {argv, flags} = await this.parse(Deploy)
    const fleet = await this.loadFleet()
    const instances = selectInstances(fleet, argv as string[])
    const sources = await this.releaseSources(fleet, instances)
    const versions = Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, v.version]))
    const plan = planDeploy(fleet, await this.observe(fleet, instances), versions, instances, {force: flags.force})
    const deps = {fleet, runtimeFor: (i: string) => this.runtimes!.runtimeFor(i), sources, secrets: await this.resolveSecrets(fleet, instances), signal: this.abort.signal}
    const targets = await this.mutate(fleet, {summary: `deploy ${instances.join(', ')}`, preview: renderDeployPlan(plan), dryRun: Boolean(flags['dry-run']), changes: plan.changes > 0},
      () => executeDeploy(plan, deps, (t, c) => this.runTasks(t, c)), deployAudit)
    const failed = (targets ?? []).filter(o => o.result === 'failed' || o.result === 'rollback-failed')
    const result = {ok: failed.length === 0, dryRun: Boolean(flags['dry-run']), plan, targets: targets ?? []}
    const human = () => (targets ? renderOutcomes(targets) : plan.changes === 0 ? 'nothing to deploy: every target is up to date' : 'dry run: nothing was changed')
    return this.finish(result, human, failed.length > 0 ? `deploy failed on ${failed.map(o => `${o.instance}@${o.host} (${o.error})`).join('; ')}; every switched target was rolled back` : undefined)
  }
}
