import {request} from 'node:http'

export interface Probe {
  ok: boolean
  status?: number
  latencyMs: number
  version?: string
  error?: string
}

/**
 * One HTTP health request; the body's `version` (JSON) is read when present. Never throws.
 * node:http rather than fetch: status runs hundreds of these and undici's start-up is most of a cold run.
 */
export function probeHttp(url: string, expect: number, timeoutMs: number, signal?: AbortSignal): Promise<Probe> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  return new Promise(resolve => {
    const req = request(url, {method: 'GET', headers: {'user-agent': 'fleet-health', connection: 'close'}, timeout: timeoutMs, signal}, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString()
        let version: string | undefined
        try { version = (JSON.parse(body) as {version?: string}).version } catch { /* a plain-text health body is fine */ }
        const ok = res.statusCode === expect
        resolve({ok, status: res.statusCode, latencyMs: elapsed(), version, error: ok ? undefined : `HTTP ${res.statusCode}${body ? ': ' + body.slice(0, 120).trim() : ''}`})
      })
      res.on('error', e => resolve({ok: false, latencyMs: elapsed(), error: e.message}))
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), {code: 'ETIMEDOUT'})))
    req.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ECONNREFUSED' ? 'connection refused (not listening)' : e.code === 'ETIMEDOUT' ? e.message : e.name === 'AbortError' ? 'interrupted' : `${e.code ?? ''} ${e.message}`.trim()
      resolve({ok: false, latencyMs: elapsed(), error: why})
    })
    req.end()
  })
}

/** Polls until healthy or the grace period runs out; returns the last probe. */
export async function waitHealthy(url: string, expect: number, timeoutMs: number, graceMs: number, intervalMs: number, signal?: AbortSignal): Promise<Probe> {
  const deadline = Date.now() + graceMs
  for (;;) {
    const p = await probeHttp(url, expect, timeoutMs, signal)
    if (p.ok || Date.now() + intervalMs > deadline || signal?.aborted) return p
    await new Promise(r => setTimeout(r, intervalMs))
  }
}
