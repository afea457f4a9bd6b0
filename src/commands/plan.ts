import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {planDeploy, type DeployPlan} from '../fleet/plan/deploy.js'
import {selectInstances} from '../fleet/targets.js'
import {renderDeployPlan} from '../ui/render.js'

export type PlanResult = DeployPlan

export default class Plan extends FleetCommand<PlanResult> {
  static summary = 'show what deploy would change, target by target, without changing anything'
  static examples = ['<%= config.bin %> plan', '<%= config.bin %> plan eu --json']
  static strict = false
  static args = {instance: Args.string({description: 'instances to plan (default: all)'})}
  static flags = {force: Flags.boolean({summary: 'plan a redeploy even where the release is current'})}

  async run(): Promise<PlanResult> {
    const {argv, flags} = await this.parse(Plan)
    const fleet = await this.loadFleet()
    const instances = selectInstances(fleet, argv as string[])
    const sources = await this.releaseSources(fleet, instances)
    const versions = Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, v.version]))
    const plan = planDeploy(fleet, await this.observe(fleet, instances), versions, instances, {force: flags.force})
    return this.finish(plan, () => renderDeployPlan(plan))
  }
}
