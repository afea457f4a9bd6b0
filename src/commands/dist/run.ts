import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../../base-command.js'
import {UsageError} from '../../errors.js'
import {commandArgv, execOutcome, fanOut, prefixedPrinter, summarizeExec, type ExecSummary, type HostExecResult} from '../../fleet/plan/exec.js'
import {observePool, poolSsh, recordRunnerUse, runnerTargets, selectPool} from '../../fleet/plan/pool.js'
import {renderExec} from '../../ui/render.js'

export interface DistRunResult {
  ok: boolean
  pool: string
  command: string[]
  hosts: HostExecResult[]
  summary: ExecSummary
}

export default class DistRun extends FleetCommand<DistRunResult> {
  static summary = 'run a command on every runner of the pool at once, output prefixed by runner'
  static description = 'One argument runs through the remote shell; several run as an argument list. Each runner reached is recorded as used (dist:reap counts idle time from there). Exits 5 when the command failed or could not run on some runner.'
  static examples = ['<%= config.bin %> dist:run -- npm test', '<%= config.bin %> dist:run --pool ci --json -- "uname -a"']
  static strict = false
  // Handshakes are capped separately (ssh.max_startups); above that, more hosts in flight only overlap waiting.
  static defaultConcurrency = 64
  static flags = {
    pool: Flags.string({char: 'p', summary: 'the pool (default: the only one declared)'}),
    timeout: Flags.integer({summary: 'seconds the command may run on each runner', default: 3600}),
  }

  async run(): Promise<DistRunResult> {
    const {argv, flags} = await this.parse(DistRun)
    const command = argv as string[]
    if (command.length === 0) throw new UsageError('no command given', 'put it after --, e.g. fleet dist:run -- npm test')
    const fleet = await this.loadFleet()
    const pool = selectPool(fleet, flags.pool)
    const cloud = await this.cloud(fleet)
    const {runners} = await observePool(fleet, pool, cloud)
    const targets = runnerTargets({ssh: poolSsh(fleet, fleet.spec.pools![pool])}, runners)
    if (targets.length === 0) throw new UsageError(`pool ${pool} has no running runner with an address`, `start some with: fleet dist:up 3 --pool ${pool} --yes`)
    const runtimes = await this.getRuntimes(fleet)
    const hosts = await fanOut(targets.map(t => ({host: t.host, transport: () => runtimes.transportFor(t)})), commandArgv(command),
      {concurrency: this.concurrency, timeoutMs: flags.timeout * 1000, signal: this.abort.signal, onLine: this.jsonEnabled() ? undefined : prefixedPrinter(targets.map(t => t.host))})
    await recordRunnerUse(fleet, pool, runners, hosts.filter(h => h.exitCode !== null).map(h => h.host), cloud)
    const {audit, failure} = execOutcome(hosts, 'runner')
    await this.audit(fleet, {plan: `dist:run on ${hosts.length} runner(s) of ${pool}`, ...audit})
    return this.finish({ok: !failure, pool, command, hosts, summary: summarizeExec(hosts)}, () => renderExec(hosts, 'runner'), failure)
  }
}
