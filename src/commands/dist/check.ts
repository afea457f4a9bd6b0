import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../../base-command.js'
import {selectPool} from '../../fleet/plan/pool.js'
import {poolChecks, type Check} from '../../state/checks.js'
import {renderChecks} from '../../ui/cloud.js'

export interface DistCheckResult {
  ok: boolean
  pools: string[]
  checks: Check[]
}

export default class DistCheck extends FleetCommand<DistCheckResult> {
  static summary = 'check offline that the pool is ready to use'
  static description = 'No network: the fleet file, the provider token (environment or vault, vault files mode 0600), the ssh public key and identity, known_hosts, and that .local/fleet/inventory agrees with the fleet file. Exits 5 when a check fails.'
  static examples = ['<%= config.bin %> dist:check', '<%= config.bin %> dist:check --pool ci --json']
  static flags = {pool: Flags.string({char: 'p', summary: 'check only this pool (default: every pool)'})}

  async run(): Promise<DistCheckResult> {
    const {flags} = await this.parse(DistCheck)
    const fleet = await this.loadFleet()
    const pools = flags.pool ? [selectPool(fleet, flags.pool)] : Object.keys(fleet.spec.pools ?? {})
    if (pools.length === 0) selectPool(fleet)
    const checks = await poolChecks(fleet, pools, process.env)
    const failed = checks.filter(c => !c.ok)
    return this.finish({ok: failed.length === 0, pools, checks}, () => renderChecks(checks), failed.length ? `${failed.length} check(s) failed: ${failed.map(c => c.check).join(', ')}` : undefined)
  }
}
