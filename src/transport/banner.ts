import {connect} from 'node:net'
import {setTimeout as delay} from 'node:timers/promises'
import {TransportError} from '../errors.js'

/**
 * Waits until host:port answers with an SSH identification line ("SSH-2.0-..."), the sign that sshd on a fresh machine
 * is up. Refused and silent connections are retried until the deadline; nothing is authenticated.
 */
export async function waitForSshBanner(target: string, host: string, port: number, opts: {timeoutMs: number; signal?: AbortSignal; intervalMs?: number}): Promise<string> {
  const deadline = Date.now() + opts.timeoutMs
  let last = 'no answer yet'
  for (;;) {
    opts.signal?.throwIfAborted()
    const left = deadline - Date.now()
    const outcome = await probe(host, port, Math.max(100, Math.min(5000, left)), opts.signal)
    if (outcome.banner) return outcome.banner
    last = outcome.error ?? 'no answer'
    if (Date.now() + (opts.intervalMs ?? 1000) >= deadline) break
    await delay(opts.intervalMs ?? 1000, undefined, {signal: opts.signal})
  }
  const s = `${Math.round(opts.timeoutMs / 1000)}s`
  throw new TransportError(target, `sshd not answering at ${host}:${port} within ${s} (${last})`, 'SSH_TIMEOUT',
    'the machine may still be booting: run the command again to keep waiting, or check its console and firewall (the port must be open)')
}

function probe(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<{banner?: string; error?: string}> {
  return new Promise(resolve => {
    const sock = connect({host, port})
    let text = ''
    const done = (r: {banner?: string; error?: string}) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      sock.destroy()
      resolve(r)
    }
    const onAbort = () => done({error: 'interrupted'})
    const timer = setTimeout(() => done({error: text ? 'no SSH banner' : 'timed out'}), timeoutMs)
    signal?.addEventListener('abort', onAbort, {once: true})
    sock.setEncoding('latin1')
    sock.on('data', (chunk: string) => {
      text += chunk
      // RFC 4253 4.2: a server may send other lines before its identification line.
      const line = text.split(/\r?\n/).find(l => l.startsWith('SSH-'))
      if (line && /\r?\n/.test(text.slice(text.indexOf(line)))) done({banner: line})
      else if (text.length > 8192) done({error: 'no SSH banner in the first 8 KiB'})
    })
    sock.on('error', (e: NodeJS.ErrnoException) => done({error: e.code === 'ECONNREFUSED' ? 'connection refused' : (e.code ?? e.message)}))
    sock.on('close', () => done({error: text ? 'closed without an SSH banner' : 'closed'}))
  })
}
