import {Args} from '@oclif/core'
import {FleetCommand} from '../base-command.js'
import {statusRow, type StatusRow} from '../fleet/status.js'
import {selectInstances} from '../fleet/targets.js'
import {describeLock, readLock, type LockInfo} from '../state/lock.js'
import {renderStatus} from '../ui/render.js'

export interface StatusResult {
  instances: StatusRow[]
  lock: LockInfo | null
  healthy: boolean
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
    const [observed, lock] = await Promise.all([this.observe(fleet, instances), readLock(fleet.stateDir)])
    const rows = instances.flatMap(i => observed[i].map(statusRow))
    const result = {instances: rows, lock: lock ?? null, healthy: rows.every(r => r.health === 'ok')}
    return this.finish(result, () => renderStatus(rows, lock ? describeLock(lock) : undefined))
  }
}
