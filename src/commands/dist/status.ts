import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../../base-command.js'
import {observePool, runnerRows, selectPool, type RunnerRow} from '../../fleet/plan/pool.js'
import {renderRunners} from '../../ui/cloud.js'

export interface DistStatusResult {
  pool: string
  provider: string
  runners: RunnerRow[]
  /** Sum of every runner's cost so far (hourly price × age), where prices are known. */
  costSoFar: number
}

export default class DistStatus extends FleetCommand<DistStatusResult> {
  static summary = 'show the runners of the pool: state, address, age, idle time and cost so far'
  static description = 'Read-only. Cost so far is the hourly price times the runner\'s age: an estimate, providers bill in their own steps.'
  static examples = ['<%= config.bin %> dist:status', '<%= config.bin %> dist:status --pool ci --json']
  static flags = {pool: Flags.string({char: 'p', summary: 'the pool (default: the only one declared)'})}

  async run(): Promise<DistStatusResult> {
    const {flags} = await this.parse(DistStatus)
    const fleet = await this.loadFleet()
    const pool = selectPool(fleet, flags.pool)
    const cloud = await this.cloud(fleet)
    const runners = runnerRows(await observePool(fleet, pool, cloud, {prices: true}))
    const costSoFar = Math.round(runners.reduce((sum, r) => sum + (r.costSoFar ?? 0), 0) * 100) / 100
    return this.finish({pool, provider: fleet.spec.pools![pool].provider, runners, costSoFar}, () => renderRunners(pool, runners))
  }
}
