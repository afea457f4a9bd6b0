export interface Probe {
  ok: boolean
  status?: number
  latencyMs: number
  version?: string
  error?: string
}

/** One HTTP health request; the body's `version` (JSON) is read when present. Never throws. */
export async function probeHttp(url: string, expect: number, timeoutMs: number, signal?: AbortSignal): Promise<Probe> {
  const started = performance.now()
  const timeout = AbortSignal.timeout(timeoutMs)
  try {
    const res = await fetch(url, {signal: signal ? AbortSignal.any([signal, timeout]) : timeout, headers: {'user-agent': 'fleet-health'}})
    const body = await res.text()
    let version: string | undefined
    try { version = (JSON.parse(body) as {version?: string}).version } catch { /* a plain-text health body is fine */ }
    const latencyMs = Math.round(performance.now() - started)
    return {ok: res.status === expect, status: res.status, latencyMs, version, error: res.status === expect ? undefined : `HTTP ${res.status}${body ? ': ' + body.slice(0, 120).trim() : ''}`}
  } catch (error) {
    const e = error as Error & {cause?: {code?: string}}
    const code = e.cause?.code
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : code === 'ECONNREFUSED' ? 'connection refused (not listening)' : code ?? e.message
    return {ok: false, latencyMs: Math.round(performance.now() - started), error: why}
  }
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
