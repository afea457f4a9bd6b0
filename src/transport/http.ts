import {setTimeout as delay} from 'node:timers/promises'
import {ProviderError} from '../errors.js'
import type {ProviderDeps} from '../providers/types.js'
import {scrub} from '../secret.js'

export type Clock = NonNullable<ProviderDeps['clock']>

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, {signal}),
}

export interface RetryPolicy {
  /** GET, PUT and DELETE: 5xx, timeouts and network errors are retried too. A POST only retries 429. */
  idempotent: boolean
  maxAttempts?: number
  baseDelayMs?: number
  maxDelayMs?: number
  /** Total time for all attempts and waits together. */
  deadlineMs?: number
  /** Time for one attempt. */
  timeoutMs?: number
}

const DEFAULTS = {maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, deadlineMs: 120_000, timeoutMs: 30_000}

export interface HttpCall {
  provider: string
  operation: string
  target: string
  /** Named in the 401 message: "token rejected (HCLOUD_TOKEN)". */
  tokenEnv: string
  method: string
  url: string
  headers?: Record<string, string>
  /** A string is sent as is, anything else as JSON. */
  body?: unknown
  signal?: AbortSignal
  retry: RetryPolicy
  clock?: Clock
  /** Told about each retry, so a slow command says why it waits. */
  log?: (line: string) => void
}

export interface HttpResponse<T = unknown> {
  status: number
  headers: Headers
  body: T
}

type Outcome = HttpResponse & {error?: unknown; timedOut?: boolean}

export async function httpRequest<T = unknown>(call: HttpCall): Promise<HttpResponse<T>> {
  const clock = call.clock ?? systemClock
  const set = Object.entries(call.retry).filter(([, v]) => v !== undefined)
  const policy = {...DEFAULTS, ...(Object.fromEntries(set) as RetryPolicy)}
  const deadline = clock.now() + policy.deadlineMs
  for (let attempt = 1; ; attempt++) {
    const outcome = await send(call, policy.timeoutMs)
    if (outcome.status >= 200 && outcome.status < 300) return outcome as HttpResponse<T>
    const wait = retryDelay(outcome, attempt, policy, clock)
    if (wait === undefined || attempt >= policy.maxAttempts || clock.now() + wait > deadline) {
      throw toProviderError(call, outcome, attempt, wait, clock)
    }
    const why = outcome.status || (outcome.timedOut ? 'a timeout' : 'a network error')
    call.log?.(`${call.provider}: ${call.operation} ${call.target} got ${why}; retrying in ${(wait / 1000).toFixed(1)}s (attempt ${attempt + 1} of ${policy.maxAttempts})`)
    await clock.sleep(wait, call.signal)
  }
}

async function send(call: HttpCall, timeoutMs: number): Promise<Outcome> {
  const signals = [AbortSignal.timeout(timeoutMs), ...(call.signal ? [call.signal] : [])]
  const hasBody = call.body !== undefined && call.body !== null
  try {
    const res = await fetch(call.url, {
      method: call.method,
      headers: {accept: 'application/json', ...(hasBody ? {'content-type': 'application/json'} : {}), ...call.headers},
      body: hasBody ? (typeof call.body === 'string' ? call.body : JSON.stringify(call.body)) : undefined,
      signal: AbortSignal.any(signals),
    })
    const text = await res.text()
    return {status: res.status, headers: res.headers, body: parseBody(text)}
  } catch (error) {
    if (call.signal?.aborted) throw call.signal.reason
    return {status: 0, headers: new Headers(), body: undefined, error, timedOut: (error as Error)?.name === 'TimeoutError'}
  }
}

function parseBody(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Milliseconds to wait before the next attempt, or undefined when this outcome must not be retried. */
function retryDelay(o: Outcome, attempt: number, p: typeof DEFAULTS & RetryPolicy, clock: Clock): number | undefined {
  // A 429 means the request was not processed, so even a POST may be sent again.
  if (o.status === 429) return serverDelay(o.headers, p.maxDelayMs, clock) ?? backoff(attempt, p)
  if (!p.idempotent) return undefined
  if (o.status === 0 || o.status >= 500) return backoff(attempt, p)
  return undefined
}

function backoff(attempt: number, p: typeof DEFAULTS): number {
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}

/** Retry-After (seconds or an HTTP date) wins; RateLimit-Reset (epoch or delta seconds) is waited for up to maxDelayMs. */
export function serverDelay(headers: Headers, maxDelayMs: number, clock: Clock): number | undefined {
  const retryAfter = headers.get('retry-after')
  if (retryAfter) {
    const seconds = Number(retryAfter)
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
    const at = Date.parse(retryAfter)
    if (!Number.isNaN(at)) return Math.max(0, at - clock.now())
  }
  const reset = Number(headers.get('ratelimit-reset') ?? NaN)
  if (!Number.isFinite(reset)) return undefined
  // Hetzner and DigitalOcean both send a UNIX timestamp; the IETF draft sends delta seconds.
  const ms = reset > 1e9 ? reset * 1000 - clock.now() : reset * 1000
  return Math.min(Math.max(0, ms), maxDelayMs)
}

function toProviderError(call: HttpCall, o: Outcome, attempts: number, wait: number | undefined, clock: Clock): ProviderError {
  const token = /^Bearer (.+)$/i.exec(call.headers?.authorization ?? call.headers?.Authorization ?? '')?.[1]
  const clean = (s: string) => (token ? scrub(s, [token]) : s)
  const info = {provider: call.provider, operation: call.operation, target: call.target, status: o.status || undefined}
  const tries = attempts > 1 ? ` after ${attempts} attempts` : ''
  const maybeApplied = 'the request may have been applied: re-run, and creates will find what exists by name'
  if (o.status === 0) {
    const cause = o.error as {cause?: {code?: string}} | undefined
    if (o.timedOut) {
      return new ProviderError({...info, code: 'PROVIDER_TIMEOUT', detail: `no answer from ${host(call.url)}${tries}`,
        hint: call.retry.idempotent ? 'the API is slow or unreachable: try again later' : maybeApplied}, o.error)
    }
    const why = cause?.cause?.code ?? (o.error as Error)?.message ?? 'network error'
    return new ProviderError({...info, code: 'PROVIDER_UNAVAILABLE', detail: clean(`${host(call.url)} unreachable (${why})${tries}`),
      hint: 'check the network connection and the provider endpoint'}, o.error)
  }
  const api = apiError(o.body)
  const detail = clean(`${o.status} ${api.code ?? statusText(o.status)}${api.message ? ` (${api.message})` : ''}${tries}`)
  const cause = new Error(clean(`${call.method} ${call.url} answered ${o.status}: ${JSON.stringify(o.body ?? '').slice(0, 500)}`))
  const err = (code: string, d: string, hint: string) => new ProviderError({...info, code, detail: d, hint}, cause)
  if (o.status === 401) return err('PROVIDER_AUTH', `401 token rejected (${call.tokenEnv})`, `set ${call.tokenEnv} to a valid read/write API token`)
  if (o.status === 403 && (api.code === 'forbidden' || api.code === 'token_readonly')) {
    return err('PROVIDER_AUTH', detail, `give the token in ${call.tokenEnv} read/write access`)
  }
  if (o.status === 404) return err('PROVIDER_NOT_FOUND', detail, 'run "fleet status" to see what exists')
  if (o.status === 429) {
    const until = wait === undefined ? '' : ` until ${new Date(clock.now() + wait).toISOString()}`
    return err('PROVIDER_RATE_LIMIT', detail, `the API rate limit is used up${until}: wait and re-run`)
  }
  if (o.status >= 500) {
    return err('PROVIDER_UNAVAILABLE', detail, call.retry.idempotent ? 'the provider API is failing: try again later' : maybeApplied)
  }
  return err('PROVIDER_INVALID', detail, 'check the values in fleet.yaml against the provider documentation')
}

/** Hetzner sends {error: {code, message}}, DigitalOcean sends {id, message}. */
function apiError(body: unknown): {code?: string; message?: string} {
  if (!body || typeof body !== 'object') return typeof body === 'string' ? {message: body.slice(0, 200)} : {}
  const b = body as {error?: {code?: string; message?: string}; id?: string; message?: string}
  if (b.error && typeof b.error === 'object') return {code: b.error.code, message: b.error.message}
  return {code: typeof b.id === 'string' ? b.id : undefined, message: b.message}
}

function statusText(status: number): string {
  return ({400: 'bad request', 403: 'forbidden', 404: 'not found', 409: 'conflict', 422: 'invalid', 429: 'too many requests'} as Record<number, string>)[status] ?? 'error'
}

function host(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

/** Gives an error from a generic call (an axios adapter knows only the URL) the operation and target it belongs to. */
export function relabel(error: unknown, operation: string, target: string): unknown {
  if (!(error instanceof ProviderError)) return error
  return new ProviderError({...error.info, operation, target}, (error as {cause?: unknown}).cause)
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ProviderError && error.info.code === 'PROVIDER_NOT_FOUND'
}

/** True when a failed call may still have been applied by the API (5xx or timeout). */
export function isUncertain(error: unknown): boolean {
  return error instanceof ProviderError && (error.info.code === 'PROVIDER_UNAVAILABLE' || error.info.code === 'PROVIDER_TIMEOUT')
}

interface AxiosLikeConfig {
  method?: string
  baseURL?: string
  url?: string
  params?: unknown
  data?: unknown
  headers?: unknown
  timeout?: number
}

/**
 * An axios adapter that sends every request through httpRequest, so an SDK built on axios (dots-wrapper) gets
 * the same retry policy and ProviderError mapping as our own fetch clients. Set it as `instance.defaults.adapter`.
 */
export function axiosAdapter(ctx: {provider: string; tokenEnv: string; clock?: Clock; signal?: AbortSignal; log?: (line: string) => void
  retry?: Omit<RetryPolicy, 'idempotent'>}) {
  return async <C extends AxiosLikeConfig>(config: C) => {
    const method = (config.method ?? 'get').toUpperCase()
    const url = new URL(`${config.baseURL ?? ''}${config.url ?? ''}`)
    for (const [k, v] of Object.entries((config.params ?? {}) as Record<string, unknown>)) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v))
    }
    const headers = toPlainHeaders(config.headers)
    const res = await httpRequest({
      provider: ctx.provider, operation: method, target: url.pathname, tokenEnv: ctx.tokenEnv, method, url: url.toString(),
      headers, body: config.data, signal: ctx.signal, clock: ctx.clock, log: ctx.log,
      retry: {timeoutMs: config.timeout || undefined, ...ctx.retry, idempotent: method !== 'POST' && method !== 'PATCH'},
    })
    return {data: res.body, status: res.status, statusText: '', headers: Object.fromEntries(res.headers), config, request: {}}
  }
}

function toPlainHeaders(headers: unknown): Record<string, string> {
  const h = headers as {toJSON?: () => Record<string, unknown>} | undefined
  const plain = (typeof h?.toJSON === 'function' ? h.toJSON() : h ?? {}) as Record<string, unknown>
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(plain)) if (v !== undefined && v !== null && v !== false) out[k.toLowerCase()] = String(v)
  return out
}

export interface PollOptions {
  clock?: Clock
  signal?: AbortSignal
  timeoutMs: number
  intervalMs?: number
  maxIntervalMs?: number
  onTimeout: () => Error
}

/** Reads until `done` holds, waiting a growing interval between reads; throws onTimeout() at the deadline. */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, o: PollOptions): Promise<T> {
  const clock = o.clock ?? systemClock
  const deadline = clock.now() + o.timeoutMs
  let interval = o.intervalMs ?? 1000
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (clock.now() + interval > deadline) throw o.onTimeout()
    await clock.sleep(interval, o.signal)
    interval = Math.min(o.maxIntervalMs ?? 10_000, Math.round(interval * 1.5))
  }
}

/**
 * Idempotent create by lookup: returns what `lookup` finds, else creates once. A create that failed in a way that
 * may still have been applied (5xx, timeout) is followed by one more lookup instead of a blind second POST.
 */
export async function createOnce<T>(lookup: () => Promise<T | undefined>, create: () => Promise<T>): Promise<T> {
  const found = await lookup()
  if (found !== undefined) return found
  try {
    return await create()
  } catch (error) {
    if (!isUncertain(error)) throw error
    const after = await lookup()
    if (after === undefined) throw error
    return after
  }
}
