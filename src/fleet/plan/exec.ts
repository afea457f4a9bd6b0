import type {Transport} from '../../transport/types.js'
import {mapLimit} from '../limit.js'

export interface ExecTarget {
  host: string
  transport: () => Transport
}

export interface HostExecResult {
  host: string
  exitCode: number | null
  stdout: string
  stderr: string
  durationMs: number
  /** Why the command could not run at all (unreachable host, refused key, timeout). */
  error?: string
  code?: string
}

/**
 * Runs one argv on many targets, at most `concurrency` at a time, streaming each output line prefixed by its host.
 * A target that cannot be reached is a result, not an exception: the others finish.
 */
export async function fanOut(targets: ExecTarget[], argv: string[], opts: {concurrency: number; timeoutMs?: number; signal?: AbortSignal; onLine?: (host: string, line: string, stream: 'stdout' | 'stderr') => void}): Promise<HostExecResult[]> {
  return mapLimit(targets, opts.concurrency, async t => {
    const started = performance.now()
    const partial: Record<'stdout' | 'stderr', string> = {stdout: '', stderr: ''}
    const onOutput = opts.onLine && ((chunk: string, stream: 'stdout' | 'stderr') => {
      const lines = (partial[stream] + chunk).split('\n')
      partial[stream] = lines.pop()!
      for (const l of lines) opts.onLine!(t.host, l, stream)
    })
    try {
      const r = await t.transport().exec(argv, {signal: opts.signal, timeoutMs: opts.timeoutMs, onOutput: onOutput || undefined})
      for (const s of ['stdout', 'stderr'] as const) if (partial[s]) opts.onLine?.(t.host, partial[s], s)
      return {host: t.host, exitCode: r.code, stdout: r.stdout, stderr: r.stderr, durationMs: Math.round(r.durationMs)}
    } catch (error) {
      const e = error as Error & {code?: string}
      return {host: t.host, exitCode: null, stdout: '', stderr: '', durationMs: Math.round(performance.now() - started), error: e.message, code: e.code}
    }
  })
}

export interface ExecSummary {
  ok: number
  failed: number
  unreachable: number
  /** Hosts by exit code; `error` for hosts where the command could not run. */
  byExit: Record<string, string[]>
}

export function summarizeExec(results: HostExecResult[]): ExecSummary {
  const byExit: Record<string, string[]> = {}
  for (const r of results) (byExit[r.exitCode === null ? 'error' : String(r.exitCode)] ??= []).push(r.host)
  return {ok: results.filter(r => r.exitCode === 0).length, failed: results.filter(r => r.exitCode !== null && r.exitCode !== 0).length, unreachable: results.filter(r => r.exitCode === null).length, byExit}
}

/** Output lines as `host | line`, hosts padded to one width, stdout and stderr kept apart. */
export function prefixedPrinter(hosts: string[]): (host: string, line: string, stream: 'stdout' | 'stderr') => void {
  const width = Math.max(0, ...hosts.map(h => h.length))
  return (host, line, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(`${host.padEnd(width)} | ${line}\n`)
}

/** The audit record of a fan-out, and the failure line when some host did not exit 0. */
export function execOutcome(results: HostExecResult[], noun: string): {audit: {exitCode: number; outcome: 'ok' | 'partial'; targets: {target: string; result: string; error?: string}[]}; failure?: string} {
  const failed = results.filter(h => h.exitCode !== 0)
  return {
    audit: {exitCode: failed.length ? 5 : 0, outcome: failed.length ? 'partial' : 'ok', targets: results.map(h => ({target: h.host, result: h.exitCode === null ? 'error' : `exit ${h.exitCode}`, error: h.error}))},
    failure: failed.length ? `${failed.length} of ${results.length} ${noun}(s) failed: ${failed.map(h => `${h.host} (${h.error ?? `exit ${h.exitCode}`})`).join(', ')}` : undefined,
  }
}

/** One argument runs through the remote shell (pipes, globs); several run as an argument list. */
export const commandArgv = (command: string[]): string[] => (command.length === 1 ? ['sh', '-c', command[0]] : command)
