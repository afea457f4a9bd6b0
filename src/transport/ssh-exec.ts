import {constants as osConstants} from 'node:os'
import type {Client, ClientChannel} from 'ssh2'
import {TransportError} from '../errors.js'
import {remoteCommand} from './shell-quote.js'
import {seconds} from './ssh-errors.js'
import type {ExecOptions, ExecResult} from './types.js'

export function runCommand(client: Client, target: string, argv: readonly string[], opts: ExecOptions, started: number, defaultTimeoutMs?: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    let code: number | undefined
    let channel: ClientChannel | undefined
    let done = false
    let open = 2
    const finish = (error?: unknown) => {
      if (done) return
      done = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      if (error === undefined) return resolve({stdout, stderr, code: code!, durationMs: Math.round(performance.now() - started)})
      channel?.close()
      reject(error)
    }
    const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs
    const timer = timeoutMs
      ? setTimeout(() => finish(new TransportError(target, `command timed out after ${seconds(timeoutMs)}: ${argv[0] ?? ''}`, 'SSH_TIMEOUT', 'raise the timeout, or check what the command waits for')), timeoutMs)
      : undefined
    const onAbort = () => finish(opts.signal!.reason)
    opts.signal?.addEventListener('abort', onAbort, {once: true})
    if (opts.signal?.aborted) return onAbort()
    const closed = () => {
      if (--open > 0) return
      if (code !== undefined) return finish()
      finish(new TransportError(target, 'connection lost while the command ran', 'SSH_DISCONNECT', 'check the host; the command may or may not have finished'))
    }
    const onChannel = (err: Error | undefined, ch: ClientChannel) => {
      if (err) return finish(new TransportError(target, `could not start a command (${err.message})`, 'SSH_SESSION', "check MaxSessions in the host's sshd_config, or retry", err))
      if (done) return ch.close()
      channel = ch
      ch.setEncoding('utf8')
      ch.stderr.setEncoding('utf8')
      ch.on('data', (s: string) => {
        stdout += s
        opts.onOutput?.(s, 'stdout')
      })
      ch.stderr.on('data', (s: string) => {
        stderr += s
        opts.onOutput?.(s, 'stderr')
      })
      ch.on('exit', (c: number | null, signal?: string) => {
        code = c ?? 128 + (osConstants.signals[signal as keyof typeof osConstants.signals] ?? 127)
      })
      ch.on('close', closed)
      ch.stderr.on('end', closed)
      ch.end(opts.stdin)
    }
    try {
      client.exec(remoteCommand(argv, opts.cwd), onChannel)
    } catch (error) {
      finish(new TransportError(target, 'connection lost before the command started', 'SSH_DISCONNECT', 'retry; the command did not run', error))
    }
  })
}
