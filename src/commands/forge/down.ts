import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../../base-command.js'
import {executeForgeDown, forgeSpec, observeForge, planForgeDown, type ForgeOutcome, type ForgePlan} from '../../fleet/plan/forge.js'
import {renderForgeOutcome, renderForgePlan} from '../../ui/cloud.js'

export interface ForgeDownResult {
  ok: boolean
  dryRun: boolean
  plan: ForgePlan
  forge?: ForgeOutcome
}

export default class ForgeDown extends FleetCommand<ForgeDownResult> {
  static summary = 'park the forge: snapshot it, and destroy the machine once the snapshot is complete'
  static description = 'The machine is destroyed only after the provider reports the new snapshot complete and lists it; a failed snapshot leaves the forge running (exit 5). Afterwards older forge snapshots beyond forge.keep (default 2) are deleted.'
  static examples = ['<%= config.bin %> forge:down --yes', '<%= config.bin %> forge:down --dry-run']
  static flags = {'dry-run': Flags.boolean({summary: 'show the plan and change nothing'})}

  async run(): Promise<ForgeDownResult> {
    const {flags} = await this.parse(ForgeDown)
    const fleet = await this.loadFleet()
    forgeSpec(fleet)
    const cloud = await this.cloud(fleet)
    const plan = planForgeDown(fleet, cloud.fleetId, await observeForge(fleet, cloud))
    const dryRun = Boolean(flags['dry-run'])
    const forge = await this.mutate(fleet, {summary: `park forge ${plan.forge}`, preview: renderForgePlan(plan), dryRun, changes: plan.changes > 0},
      () => executeForgeDown(plan, cloud, (t, c, n) => this.runTasks(t, c, n)),
      o => ({outcome: o.result === 'parked' ? 'ok' : 'failed', targets: [{target: plan.forge, result: o.result, error: o.error}]}))
    const failure = forge && forge.result !== 'parked'
      ? `forge:down failed: ${forge.error}; ${forge.state === 'running' ? `nothing was destroyed, the forge is still running${forge.address ? ` at ${forge.address}` : ''}` : 'the forge is parked'}`
      : undefined
    const human = () => (forge ? renderForgeOutcome(forge, plan.alias) : dryRun ? 'dry run: nothing was changed' : renderForgePlan(plan).replace(/^plan: /, ''))
    return this.finish({ok: !failure, dryRun, plan, forge}, human, failure)
  }
}
