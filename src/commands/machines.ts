import {FleetCommand} from '../base-command.js'
import {observeMachines, type MachineRow} from '../fleet/plan/machines.js'
import {renderMachines} from '../ui/cloud.js'

export interface MachinesResult {
  /** The value of the fleet label on every machine listed. */
  fleet: string
  machines: MachineRow[]
}

export default class Machines extends FleetCommand<MachinesResult> {
  static summary = 'list this fleet\'s cloud machines: provider state, type, location and address'
  static description = 'Read-only. Lists every machine labeled fleet=<this fleet> on the cloud providers the fleet uses (hosts, runners, the forge), and declared cloud hosts that have no machine yet (absent).'
  static examples = ['<%= config.bin %> machines', '<%= config.bin %> machines --json']

  async run(): Promise<MachinesResult> {
    const fleet = await this.loadFleet()
    const cloud = await this.cloud(fleet)
    const machines = await observeMachines(fleet, cloud)
    return this.finish({fleet: cloud.fleetId, machines}, () => renderMachines(machines))
  }
}
