import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../../base-command.js'
import {executeForgeUp, forgeSpec, observeForge, planForgeUp, syncForge, type ForgeOutcome, type ForgePlan} from '../../fleet/plan/forge.js'
import {renderForgeOutcome, renderForgePlan} from '../../ui/cloud.js'

export interface ForgeUpResult {
  ok: boolean
  dryRun: boolean
  plan: ForgePlan
  forge?: ForgeOutcome
}

export default class ForgeUp extends FleetCommand<ForgeUpResult> {
  static summary = 'start the forge: restore its newest snapshot, or create it with Forgejo'
  static description = 'Nothing happens when the forge runs. Otherwise the machine is created from the newest forge snapshot, or, when there is none, from the base image with templates/cloud-init/forgejo.yaml. Its address goes into .local/fleet/inventory and a Host block of .local/fleet/ssh_config, so "ssh -F .local/fleet/ssh_config <alias>" reaches it.'
  static examples = ['<%= config.bin %> forge:up --yes', '<%= config.bin %> forge:up --dry-run --json']
  static flags = {
    'dry-run': Flags.boolean({summary: 'show the plan and change nothing'}),
    'ssh-timeout': Flags.integer({summary: 'seconds the forge may take until its sshd answers', default: 300, min: 1}),
  }

  async run(): Promise<ForgeUpResult> {
    const {flags} = await this.parse(ForgeUp)
    const fleet = await this.loadFleet()
    forgeSpec(fleet)
    const cloud = await this.cloud(fleet)
    const plan = planForgeUp(fleet, cloud.fleetId, await observeForge(fleet, cloud))
    const dryRun = Boolean(flags['dry-run'])
    const forge = await this.mutate(fleet, {summary: `${plan.action} forge ${plan.forge}`, preview: renderForgePlan(plan), dryRun, changes: plan.changes > 0},
      () => executeForgeUp(plan, fleet, cloud, (t, c, n) => this.runTasks(t, c, n), {sshTimeoutMs: flags['ssh-timeout'] * 1000}),
      o => ({outcome: o.error ? 'failed' : 'ok', targets: [{target: plan.forge, result: o.result, error: o.error}]}))
    if (!forge && !dryRun) await syncForge(plan, cloud)
    const human = () => (forge ? renderForgeOutcome(forge, plan.alias) : dryRun ? 'dry run: nothing was changed' : renderForgePlan(plan).replace(/^plan: /, ''))
    return this.finish({ok: !forge?.error, dryRun, plan, forge}, human, forge?.error ? `forge:up failed: ${forge.error}; the forge is ${forge.state}` : undefined)
  }
}
