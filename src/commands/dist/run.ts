import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../../base-command.js'
import {UsageError} from '../../errors.js'
import {fanOut, summarizeExec, type ExecSummary, type HostExecResult} from '../../fleet/plan/exec.js'
import {observePool, poolSsh, recordRunnerUse, runnerTargets, selectPool} from '../../fleet/plan/pool.js'
import {renderTable} from '../../ui/table.js'

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
    const width = Math.max(...targets.map(t => t.host.length))
    const print = this.jsonEnabled() ? undefined : (host: string, line: string, stream: string) => (stream === 'stdout' ? process.stdout : process.stderr).write(`${host.padEnd(width)} | ${line}\n`)
    const hosts = await fanOut(targets.map(t => ({host: t.host, transport: () => runtimes.transportFor(t)})), command.length === 1 ? ['sh', '-c', command[0]] : command,
      {concurrency: this.flagsBase.concurrency, timeoutMs: flags.timeout * 1000, signal: this.abort.signal, onLine: print})
    await recordRunnerUse(fleet, pool, runners, hosts.filter(h => h.exitCode !== null).map(h => h.host), cloud)
    const summary = summarizeExec(hosts)
    const failed = hosts.filter(h => h.exitCode !== 0)
    await this.audit(fleet, {plan: `dist:run on ${hosts.length} runner(s) of ${pool}`, exitCode: failed.length ? 5 : 0, outcome: failed.length ? 'partial' : 'ok', targets: hosts.map(h => ({target: h.host, result: h.exitCode === null ? 'error' : `exit ${h.exitCode}`, error: h.error}))})
    const human = () => renderTable(['runner', 'exit', 'took', 'error'], hosts.map(h => [h.host, h.exitCode ?? '-', `${h.durationMs} ms`, h.error ?? '']))
    return this.finish({ok: failed.length === 0, pool, command, hosts, summary}, human, failed.length ? `${failed.length} of ${hosts.length} runner(s) failed: ${failed.map(h => `${h.host} (${h.error ?? `exit ${h.exitCode}`})`).join(', ')}` : undefined)
  }
}
