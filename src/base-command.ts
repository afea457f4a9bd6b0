import {setMaxListeners} from 'node:events'
import {appendFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {Command} from '@oclif/core/command'
import * as Errors from '@oclif/core/errors'
import * as Flags from '@oclif/core/flags'
import type {Interfaces} from '@oclif/core'
import type {ListrTask} from 'listr2'
import {ExitCode, PartialFailure, UsageError} from './errors.js'
import type {CloudDeps} from './fleet/cloud.js'
import type {Fleet} from './fleet/load.js'
import type {Runtimes} from './providers/registry.js'
import type {ReleaseSource, TargetStatus} from './providers/runtime.js'
import type {Secret} from './secret.js'
import type {AuditRecord} from './state/audit.js'
import type {LockInfo} from './state/lock.js'

type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof FleetCommand)['baseFlags'] & T['flags']>

export interface MutationOptions {
  /** One line for the audit log and the approval prompt. */
  summary: string
  /** The plan as text, shown before asking for approval. */
  preview: string
  dryRun: boolean
  /** Whether anything would change at all; nothing to do skips the prompt and the lock. */
  changes: boolean
}

/** One signal is handed to every child process and request of a command: hundreds of listeners are expected. */
function abortController(): AbortController {
  const c = new AbortController()
  setMaxListeners(0, c.signal)
  return c
}

/** Owns what every command shares: flags, the fleet file, JSON vs human output, approval, lock, audit, SIGINT, errors. */
export abstract class FleetCommand<T> extends Command {
  static enableJsonFlag = true
  /** Targets worked on at once when --concurrency is not given; fan-out commands that only run one command raise it. */
  static defaultConcurrency = 16
  static baseFlags = {
    file: Flags.string({char: 'f', summary: 'fleet file', default: 'fleet.yaml', env: 'FLEET_FILE', helpGroup: 'GLOBAL'}),
    yes: Flags.boolean({char: 'y', summary: 'approve changes without asking (for scripts and CI)', helpGroup: 'GLOBAL'}),
    concurrency: Flags.integer({summary: 'how many targets to work on at once (default 16; 64 for exec and dist:run)', min: 1, helpGroup: 'GLOBAL'}),
  }

  protected flagsBase!: BaseFlags<typeof FleetCommand>
  protected fleet?: Fleet
  protected runtimes?: Runtimes
  protected readonly abort = abortController()
  private lock?: {stateDir: string; info: LockInfo}
  private started = performance.now()
  private onSigint?: () => void

  abstract run(): Promise<T>

  public async init(): Promise<void> {
    await super.init()
    const {flags} = await this.parse(this.constructor as never)
    this.flagsBase = flags as BaseFlags<typeof FleetCommand>
  }

  protected async loadFleet(): Promise<Fleet> {
    const {openFleet} = await import('./state/sources.js')
    this.fleet = await openFleet(this.flagsBase.file)
    return this.fleet
  }

  protected async getRuntimes(fleet: Fleet): Promise<Runtimes> {
    const {createRuntimes} = await import('./providers/registry.js')
    this.runtimes ??= await createRuntimes(fleet, {log: (t, line) => this.progress(`${t.instance}@${t.host}: ${line}`), signal: this.abort.signal, sshAgent: process.env.SSH_AUTH_SOCK})
    return this.runtimes
  }

  /** Every target of the given instances, observed read-only: one round trip per machine, `--concurrency` machines at a time. */
  protected async observe(fleet: Fleet, instances: string[]): Promise<Record<string, TargetStatus[]>> {
    const runtimes = await this.getRuntimes(fleet)
    const {targetsOf} = await import('./fleet/targets.js')
    const targets = instances.flatMap(i => targetsOf(fleet, i))
    const seen = await runtimes.observeAll(targets, this.concurrency, this.abort.signal)
    return Object.fromEntries(instances.map(i => [i, seen.filter(s => s.target.instance === i)]))
  }

  protected async releaseSources(fleet: Fleet, instances: string[]): Promise<Record<string, ReleaseSource>> {
    return (await import('./state/sources.js')).releaseSources(fleet, instances)
  }

  /** Secret values from the vault and the environment: the one place (with cloud tokens) that reads them. */
  protected async resolveSecrets(fleet: Fleet, instances: string[], opts: {only?: string[]; strict?: boolean} = {}): Promise<Record<string, Map<string, Secret>>> {
    return (await import('./state/sources.js')).resolveSecrets(fleet, instances, process.env, opts)
  }

  /**
   * The cloud providers of the fleet, the inventory and the ssh banner probe. Tokens are resolved here, from the
   * provider's token reference or its usual environment variables (HCLOUD_TOKEN, DIGITALOCEAN_TOKEN), never in adapters.
   */
  protected async cloud(fleet: Fleet): Promise<CloudDeps> {
    const {openCloud} = await import('./providers/cloud.js')
    const {resolveProviderToken} = await import('./state/credentials.js')
    return openCloud(fleet, {token: name => resolveProviderToken(fleet, name, process.env), signal: this.abort.signal, log: line => this.progress(line)})
  }

  protected get concurrency(): number {
    return this.flagsBase.concurrency ?? (this.constructor as typeof FleetCommand).defaultConcurrency
  }

  protected get mode(): 'tty' | 'plain' | 'json' {
    if (this.jsonEnabled()) return 'json'
    return process.stderr.isTTY && !process.env.CI ? 'tty' : 'plain'
  }

  /** A line of progress on stderr (never in --json mode, never on stdout). */
  protected progress(line: string): void {
    if (this.mode === 'plain') process.stderr.write(`${line}\n`)
  }

  protected async runTasks<C extends object>(tasks: ListrTask<C>[], ctx: C, concurrency = this.concurrency) {
    const {runTasks} = await import('./ui/tasks.js')
    return runTasks(tasks, ctx, {mode: this.mode, concurrency})
  }

  /**
   * Runs a change: shows the plan, asks (or requires --yes), takes the lock, audits, and releases the lock
   * whatever happens, SIGINT included.
   */
  protected async mutate<R>(fleet: Fleet, opts: MutationOptions, work: () => Promise<R>, audit: (r: R) => Pick<AuditRecord, 'targets' | 'outcome'>): Promise<R | undefined> {
    if (!this.jsonEnabled() && (opts.dryRun || opts.changes)) process.stderr.write(`${opts.preview}\n`)
    if (opts.dryRun || !opts.changes) return undefined
    await this.approve(opts.summary)
    const {acquireLock} = await import('./state/lock.js')
    const info = await acquireLock(fleet.stateDir, this.id ?? 'fleet', {note: opts.summary, warn: m => this.warn(m)})
    this.lock = {stateDir: fleet.stateDir, info}
    this.installSigint(fleet, opts.summary)
    let result: R | undefined
    let error: unknown
    try {
      result = await work()
      return result
    } catch (e) {
      error = e
      throw e
    } finally {
      const interrupted = this.abort.signal.aborted
      const fromResult = result ? audit(result) : {outcome: 'failed' as const}
      const exitCode = interrupted ? ExitCode.interrupted : error ? ((error as {exitCode?: number}).exitCode ?? ExitCode.bug) : fromResult.outcome === 'partial' ? ExitCode.partial : ExitCode.ok
      await this.audit(fleet, {plan: opts.summary, exitCode, ...fromResult, outcome: interrupted ? 'interrupted' : fromResult.outcome, error: error && !(error instanceof PartialFailure) ? (error as Error).message : undefined})
      await this.releaseLock()
    }
  }

  protected async audit(fleet: Fleet, rec: Pick<AuditRecord, 'plan' | 'exitCode' | 'outcome' | 'targets' | 'error'>): Promise<void> {
    const {appendAudit} = await import('./state/audit.js')
    await appendAudit(fleet.stateDir, {command: this.id ?? 'fleet', argv: this.argv.filter(a => !a.startsWith('--file=')), durationMs: Math.round(performance.now() - this.started), ...rec})
  }

  private async approve(summary: string): Promise<void> {
    if (this.flagsBase.yes) return
    if (this.jsonEnabled() || !process.stdin.isTTY || !process.stderr.isTTY) {
      throw new UsageError(`refusing to ${summary} without approval: no terminal to ask in`, 'pass --yes to approve in scripts and CI, or --dry-run to only see the plan')
    }
    const {createInterface} = await import('node:readline/promises')
    const rl = createInterface({input: process.stdin, output: process.stderr})
    const answer = await rl.question(`${summary}? [y/N] `)
    rl.close()
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('not approved; nothing was changed')
  }

  private installSigint(fleet: Fleet, summary: string): void {
    const hardExit = () => {
      const lock = this.lock
      if (lock) {
        rmSync(path.join(lock.stateDir, 'lock.json'), {force: true})
        const rec = {at: new Date().toISOString(), who: lock.info.who, host: lock.info.host, command: this.id, argv: this.argv, plan: summary, outcome: 'interrupted', exitCode: 130, durationMs: Math.round(performance.now() - this.started)}
        appendFileSync(path.join(fleet.stateDir, 'audit.jsonl'), JSON.stringify(rec) + '\n', {mode: 0o600})
      }
      process.exit(ExitCode.interrupted)
    }
    this.onSigint = () => {
      // The first interrupt unwinds: running steps stop, switched targets roll back, the lock is released.
      // A second one (or a stuck unwind) releases the lock and records the interruption at once.
      if (this.abort.signal.aborted) return hardExit()
      process.stderr.write('\ninterrupted: stopping, rolling back what switched, releasing the lock (interrupt again to quit now)\n')
      this.abort.abort()
      setTimeout(hardExit, 60_000).unref()
    }
    process.on('SIGINT', this.onSigint)
    process.on('SIGTERM', this.onSigint)
  }

  private async releaseLock(): Promise<void> {
    if (!this.lock) return
    const {releaseLock} = await import('./state/lock.js')
    await releaseLock(this.lock.stateDir, {pid: this.lock.info.pid})
    this.lock = undefined
  }

  /**
   * Human output goes to stdout here; with --json oclif prints the returned value. When some targets failed,
   * `failure` says which and the command exits 5 with the result still printed.
   */
  protected finish(result: T, human: () => string, failure?: string): T {
    if (!this.jsonEnabled()) this.log(human())
    if (this.abort.signal.aborted) throw new PartialFailure('interrupted', result)
    if (failure) throw new PartialFailure(failure, result, 'the result lists every target; fix the failed ones and run the command again (fleet status shows the fleet)')
    return result
  }

  protected async catch(err: Error & {exitCode?: number; code?: string; suggestions?: string[]; oclif?: {exit?: number}}): Promise<never> {
    if (err instanceof Errors.ExitError) throw err
    const interrupted = this.abort.signal.aborted
    const exit = interrupted ? ExitCode.interrupted : err.exitCode ?? err.oclif?.exit ?? ExitCode.bug
    const hint = err.suggestions?.[0]
    if (this.jsonEnabled()) {
      const error = {code: interrupted ? 'FLEET_INTERRUPTED' : err.code ?? 'FLEET_BUG', message: err.message, hint, exitCode: exit}
      const payload = err instanceof PartialFailure ? {...(err.result as object), error} : {error}
      this.logJson(payload)
    } else {
      process.stderr.write(`${this.config.bin}: ${err.message}\n`)
      if (hint) process.stderr.write(`Try this: ${hint}\n`)
      if (exit === ExitCode.bug && process.env.DEBUG?.includes('fleet')) process.stderr.write(`${err.stack}\n`)
      else if (exit === ExitCode.bug) process.stderr.write('This is a bug in fleet; run again with DEBUG=fleet* for details.\n')
    }
    return this.exit(exit)
  }

  protected async finally(err: Error | undefined): Promise<void> {
    if (this.onSigint) {
      process.off('SIGINT', this.onSigint)
      process.off('SIGTERM', this.onSigint)
    }
    await this.releaseLock()
    await this.runtimes?.close()
    return super.finally(err)
  }
}
