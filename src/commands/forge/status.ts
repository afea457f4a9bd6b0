import {FleetCommand} from '../../base-command.js'
import {forgeSpec, forgeStatus, observeForge, type ForgeStatus} from '../../fleet/plan/forge.js'
import {renderForgeStatus} from '../../ui/cloud.js'

export type ForgeStatusResult = ForgeStatus

export default class ForgeStatusCommand extends FleetCommand<ForgeStatusResult> {
  static summary = 'show whether the forge is up or parked, its address, snapshot age and monthly cost in each state'
  static description = 'Read-only. Monthly cost while up is the machine price plus stored snapshots; while parked, the snapshots alone.'
  static examples = ['<%= config.bin %> forge:status', '<%= config.bin %> forge:status --json']

  async run(): Promise<ForgeStatusResult> {
    const fleet = await this.loadFleet()
    forgeSpec(fleet)
    const cloud = await this.cloud(fleet)
    const status = forgeStatus(fleet, await observeForge(fleet, cloud, {prices: true}))
    return this.finish(status, () => renderForgeStatus(status))
  }
}
