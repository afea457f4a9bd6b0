import {spawn} from 'node:child_process'
import {TransportError} from '../errors.js'
import type {ExecOptions, ExecResult, Transport} from './types.js'

/**
 * Runs argv lists on this machine, without a shell in between. Plain child_process rather than execa:
 * this sits on the path of every `fleet status`, and execa's import alone costs more than the commands it runs.
 */
export class LocalTransport implements Transport {
  readonly target = 'local'

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const started = performance.now()
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), {cwd: opts.cwd, signal: opts.signal, timeout: opts.timeoutMs, stdio: ['pipe', 'pipe', 'pipe']})
      const out: Buffer[] = []
      const err: Buffer[] = []
      child.stdout.on('data', (c: Buffer) => { out.push(c); opts.onOutput?.(c.toString(), 'stdout') })
      child.stderr.on('data', (c: Buffer) => { err.push(c); opts.onOutput?.(c.toString(), 'stderr') })
      child.stdin.on('error', () => {}) // a command that exits without reading its stdin is not an error here
      child.stdin.end(opts.stdin)
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') reject(new TransportError('local', `${argv[0]}: command not found`, 'LOCAL_EXEC', `install ${argv[0]} or check PATH`, e))
        else if (e.name === 'AbortError') reject(new TransportError('local', `${argv[0]} was interrupted`, 'LOCAL_ABORTED', 'run the command again', e))
        else reject(new TransportError('local', `${argv[0]}: ${e.message}`, 'LOCAL_EXEC', 'check the command and its permissions', e))
      })
      child.on('close', (code, signal) => {
        if (signal && opts.timeoutMs && performance.now() - started >= opts.timeoutMs) {
          reject(new TransportError('local', `${argv[0]} timed out after ${opts.timeoutMs} ms`, 'LOCAL_TIMEOUT', 'raise the timeout or check what the command waits for'))
          return
        }
        resolve({stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? 128, durationMs: performance.now() - started})
      })
    })
  }

  async close(): Promise<void> {}
}
