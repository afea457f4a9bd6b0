import * as Args from '@oclif/core/args'
import {FleetCommand} from '../base-command.js'
import {statusRow, type StatusRow} from '../fleet/status.js'
import {selectInstances} from '../fleet/targets.js'
import {describeLock, readLock, type LockInfo} from '../state/lock.js'
import {declaresMachines, observeMachines, type MachineRow} from '../fleet/plan/machines.js'
import {renderMachines} from '../ui/cloud.js'
import {renderStatus} from '../ui/render.js'

export interface StatusResult {
  instances: StatusRow[]
  /** This fleet's cloud machines (provider state, type, location, address); null when the fleet has none. */
  machines: MachineRow[] | null
  lock: LockInfo | null
  healthy: boolean
  warnings: string[]
}

export default class Status extends FleetCommand<StatusResult> {
  static summary = 'show the health of every instance: release, health with latency, replicas, lock'
  static examples = ['<%= config.bin %> status', '<%= config.bin %> status eu --json']
  static strict = false
  static args = {instance: Args.string({description: 'instances to show (default: all)'})}

  async run(): Promise<StatusResult> {
    const {argv} = await this.parse(Status)
    const fleet = await this.loadFleet()
    const instances = selectInstances(fleet, argv as string[])
    const warnings: string[] = []
    const machines = declaresMachines(fleet) && argv.length === 0 ? this.cloud(fleet).then(c => observeMachines(fleet, c)).catch(e => { warnings.push(`cloud machines not shown: ${(e as Error).message}`); return null }) : null
    const [observed, lock, cloud] = await Promise.all([this.observe(fleet, instances), readLock(fleet.stateDir), machines])
    const rows = instances.flatMap(i => observed[i].map(statusRow))
    const result = {instances: rows, machines: cloud, lock: lock ?? null, healthy: rows.every(r => r.health === 'ok'), warnings}
    const human = () => [renderStatus(rows, lock ? describeLock(lock) : undefined), cloud ? renderMachines(cloud) : '', ...warnings.map(w => `warning: ${w}`)].filter(Boolean).join('\n')
    return this.finish(result, human)
  }
}
