import {execa} from 'execa'
import {TransportError} from '../errors.js'
import type {ExecOptions, ExecResult, Transport} from './types.js'

/** Runs argv lists on this machine, without a shell in between. */
export class LocalTransport implements Transport {
  readonly target = 'local'

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const started = performance.now()
    const child = execa(argv[0], argv.slice(1), {
      cwd: opts.cwd, input: opts.stdin, reject: false, timeout: opts.timeoutMs, cancelSignal: opts.signal, stripFinalNewline: false, buffer: true,
    })
    if (opts.onOutput) {
      child.stdout?.on('data', (c: Buffer) => opts.onOutput!(c.toString(), 'stdout'))
      child.stderr?.on('data', (c: Buffer) => opts.onOutput!(c.toString(), 'stderr'))
    }
    const r = await child
    if (r.timedOut) throw new TransportError('local', `${argv[0]} timed out after ${opts.timeoutMs} ms`, 'LOCAL_TIMEOUT', 'raise the timeout or check what the command waits for')
    if (r.code === 'ENOENT') throw new TransportError('local', `${argv[0]}: command not found`, 'LOCAL_EXEC', `install ${argv[0]} or check PATH`)
    return {stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), code: r.exitCode ?? (r.signal ? 128 : 1), durationMs: performance.now() - started}
  }

  async close(): Promise<void> {}
}
