import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {UsageError} from '../errors.js'
import {commandArgv, execOutcome, fanOut, prefixedPrinter, summarizeExec, type ExecSummary, type HostExecResult} from '../fleet/plan/exec.js'
import {execTargets} from '../fleet/targets.js'
import {renderExec} from '../ui/render.js'

export interface ExecResult {
  ok: boolean
  command: string[]
  hosts: HostExecResult[]
  summary: ExecSummary
}

export default class Exec extends FleetCommand<ExecResult> {
  static summary = 'run a command on many hosts at once, output prefixed by host'
  static description = 'One argument runs through the remote shell (pipes and globs work); several run as an argument list, quoted. Exits 5 when the command failed or could not run on some hosts.'
  static examples = ['<%= config.bin %> exec -- uptime', '<%= config.bin %> exec --label web -- "df -h / | tail -1"', '<%= config.bin %> exec --instance eu --json -- systemctl is-active caddy']
  static strict = false
  // Handshakes are capped separately (ssh.max_startups); above that, more hosts in flight only overlap waiting.
  static defaultConcurrency = 64
  static flags = {
    instance: Flags.string({char: 'i', summary: 'the targets of this instance', multiple: true}),
    host: Flags.string({char: 'H', summary: 'this host', multiple: true}),
    label: Flags.string({char: 'l', summary: 'hosts with this label', multiple: true}),
    timeout: Flags.integer({summary: 'seconds the command may run on each host', default: 600}),
  }

  async run(): Promise<ExecResult> {
    const {argv, flags} = await this.parse(Exec)
    const command = argv as string[]
    if (command.length === 0) throw new UsageError('no command given', 'put it after --, e.g. fleet exec -- uptime')
    const fleet = await this.loadFleet()
    const runtimes = await this.getRuntimes(fleet)
    const targets = execTargets(fleet, {instances: flags.instance, hosts: flags.host, labels: flags.label})
    const hosts = await fanOut(targets.map(t => ({host: t.host, transport: () => runtimes.transportFor(t)})), commandArgv(command),
      {concurrency: this.concurrency, timeoutMs: flags.timeout * 1000, signal: this.abort.signal, onLine: this.jsonEnabled() ? undefined : prefixedPrinter(targets.map(t => t.host))})
    const {audit, failure} = execOutcome(hosts, 'host')
    await this.audit(fleet, {plan: `exec on ${targets.length} host(s)`, ...audit})
    return this.finish({ok: !failure, command, hosts, summary: summarizeExec(hosts)}, () => renderExec(hosts), failure)
  }
}
