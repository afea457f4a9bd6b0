import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {executeProvision, observeHosts, planProvision, syncHosts, type HostOutcome, type ProvisionPlan} from '../fleet/plan/provision.js'
import {renderHostOutcomes, renderProvisionPlan} from '../ui/cloud.js'
import {auditOf} from '../state/audit.js'

export interface ProvisionResult {
  ok: boolean
  dryRun: boolean
  plan: ProvisionPlan
  hosts: HostOutcome[]
}

export default class Provision extends FleetCommand<ProvisionResult> {
  static summary = 'create the machines of hosts declared on a cloud provider'
  static description = 'Each missing host is created with your ssh public key (ssh.public_key, default ~/.ssh/id_ed25519.pub), the labels fleet=<fleet> and fleet-host=<host>, and templates/cloud-init/host.yaml; then fleet waits until its sshd answers and records the address in .local/fleet/inventory. A machine with the same name that is not this fleet\'s is never adopted.'
  static examples = ['<%= config.bin %> provision --yes', '<%= config.bin %> provision web-1 web-2 --dry-run', '<%= config.bin %> provision web-3 --yes --json']
  static strict = false
  static args = {host: Args.string({description: 'hosts to create (default: every cloud host)'})}
  static flags = {
    'dry-run': Flags.boolean({summary: 'show the plan and change nothing'}),
    'ssh-timeout': Flags.integer({summary: 'seconds a new machine may take until its sshd answers', default: 300, min: 1}),
  }

  async run(): Promise<ProvisionResult> {
    const {argv, flags} = await this.parse(Provision)
    const fleet = await this.loadFleet()
    const cloud = await this.cloud(fleet)
    const plan = planProvision(fleet, await observeHosts(fleet, cloud, argv as string[]))
    const dryRun = Boolean(flags['dry-run'])
    const hosts = await this.mutate(fleet, {summary: `create ${plan.targets.filter(t => t.action === 'create').map(t => t.host).join(', ')}`, preview: renderProvisionPlan(plan), dryRun, changes: plan.changes > 0},
      () => executeProvision(plan, fleet, cloud, (t, c, n) => this.runTasks(t, c, n), {sshTimeoutMs: flags['ssh-timeout'] * 1000}),
      hs => auditOf(hs, h => h.result !== 'failed', h => ({target: h.host, result: h.result, error: h.error})))
    if (!hosts && !dryRun) await syncHosts(plan, cloud)
    const failed = (hosts ?? []).filter(h => h.result === 'failed')
    const human = () => (hosts ? renderHostOutcomes(hosts) : dryRun ? 'dry run: nothing was changed' : renderProvisionPlan(plan).replace(/^plan: /, ''))
    return this.finish({ok: failed.length === 0, dryRun, plan, hosts: hosts ?? []}, human, failed.length ? `provision failed on ${failed.map(h => `${h.host} (${h.error})`).join('; ')}` : undefined)
  }
}
