import {randomUUID} from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import addFormats from 'ajv-formats'
import {OpenAPIBackend} from 'openapi-backend'
import type {Document} from 'openapi-backend'

const projectRoot = fileURLToPath(new URL('../..', import.meta.url))
export const SPEC_DIR = path.resolve(projectRoot, '../shared/specs')

// ---- spec validation -------------------------------------------------------------------------------------------

export interface SpecValidator {
  /** Problems a real API would reject the request for; empty when it is valid. */
  validateRequest(method: string, path: string, query: Record<string, string | string[]>, headers: Record<string, unknown>, body: unknown): string[]
  /** Problems with a response the fake is about to send; an undocumented status is one. */
  validateResponse(operationId: string, status: number, body: unknown): string[]
}

const loaded = new Map<string, Promise<SpecValidator | undefined>>()

/** Loads a spec from ../shared/specs once per process; undefined (with a notice) when absent, an error when CI=true. */
export function loadSpecValidator(file: string): Promise<SpecValidator | undefined> {
  let p = loaded.get(file)
  if (!p) loaded.set(file, (p = load(file)))
  return p
}

async function load(file: string): Promise<SpecValidator | undefined> {
  const full = path.join(SPEC_DIR, file)
  if (!fs.existsSync(full)) {
    if (process.env.CI === 'true') throw new Error(`${full} is missing: CI checks the fake APIs against it`)
    console.warn(`notice: ${full} not found, so the fake API for it runs without spec checks`)
    return undefined
  }
  const doc = JSON.parse(fs.readFileSync(full, 'utf8')) as Document
  upperCaseStatusRanges(doc)
  // quick: Hetzner's document fails openapi-backend's definition check (lowercase 4xx keys), so it is skipped.
  const api = new OpenAPIBackend({
    definition: doc, quick: true, coerceTypes: true, ajvOpts: {strict: false, unicodeRegExp: false},
    customizeAjv: ajv => {
      const plugin = (addFormats as unknown as {default?: typeof addFormats}).default ?? addFormats
      ;(plugin as unknown as (a: typeof ajv) => void)(ajv)
      for (const f of ['int32', 'int64', 'float', 'double', 'decimal', 'byte', 'binary', 'password']) ajv.addFormat(f, true)
      return ajv
    },
  })
  await api.init()
  return {
    validateRequest(method, p, query, headers, body) {
      const req = {method, path: p, query, headers: headers as Record<string, string>, body}
      if (!api.matchOperation(req)) return [`no operation in ${file} for ${method} ${p}`]
      return (api.validateRequest(req).errors ?? []).map(e => `${e.instancePath || '/'} ${e.message}`)
    },
    validateResponse(operationId, status, body) {
      const op = api.getOperation(operationId)
      if (!op) return [`no operation ${operationId} in ${file}`]
      const keys = Object.keys(op.responses ?? {})
      if (![String(status), `${Math.floor(status / 100)}XX`, 'default'].some(k => keys.includes(k))) {
        return [`status ${status} is not documented for ${operationId} (documented: ${keys.join(', ')})`]
      }
      return (api.validateResponse(body ?? null, operationId, status).errors ?? []).map(e => `${e.instancePath || '/'} ${e.message}`)
    },
  }
}

/** Hetzner writes response ranges as `4xx`; OpenAPI (and openapi-backend's matcher) spells them `4XX`. */
function upperCaseStatusRanges(doc: Document): void {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item ?? {})) {
      const responses = (op as {responses?: Record<string, unknown>})?.responses
      if (!responses || typeof responses !== 'object') continue
      for (const k of Object.keys(responses)) {
        if (/^[1-5]xx$/.test(k)) {
          responses[k.toUpperCase()] = responses[k]
          delete responses[k]
        }
      }
    }
  }
}

export function assertNoViolations(fake: {violations: string[]}): void {
  if (fake.violations.length > 0) throw new Error(`the fake API saw spec violations:\n  ${fake.violations.join('\n  ')}`)
}

// ---- a spec-checked fake HTTP server ---------------------------------------------------------------------------

export interface FakeRequest {
  params: Record<string, string>
  query: URLSearchParams
  body: any
}

export interface FakeReply {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export interface Route {
  /** The spec's operationId; responses are validated against it. */
  op: string
  method: string
  /** The spec's path template, e.g. /servers/{id}. */
  path: string
  handle(req: FakeRequest): FakeReply
}

export interface Fault {
  method?: string
  path: RegExp
  status: number
  /** How many matching requests fail (default 1). */
  times?: number
  /** Sent as Retry-After: seconds, or an HTTP date. */
  retryAfter?: number | string
  /** Seconds until RateLimit-Reset, sent on a 429 (default: retryAfter or 60). */
  resetIn?: number
  /** Apply the request, then answer with the fault (a create whose response was lost). */
  afterApply?: boolean
}

/** Thrown by a route handler to answer with the provider's error shape. */
export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message)
  }
}

export interface SpecServerOptions {
  spec: string
  /** Path prefix of the API (/v1 for Hetzner). */
  prefix: string
  token: string
  routes: Route[]
  /** Status for a request the spec rejects. */
  invalidStatus: number
  describe(status: number): {code: string; message: string}
  errorBody(f: ApiFailure, requestId: string): unknown
  /** Requests per hour; the fake counts them down and sends the provider's rate limit headers. */
  rateLimit: number
  rateLimitHeaders(limit: number, remaining: number, resetEpoch: number): Record<string, string>
}

interface Compiled extends Route {
  re: RegExp
  names: string[]
}

export interface RecordedRequest {
  method: string
  path: string
  search: string
  status: number
  at: number
}

export class SpecServer {
  readonly violations: string[] = []
  readonly requests: RecordedRequest[] = []
  private readonly faults: (Fault & {left: number})[] = []
  private readonly routes: Compiled[]
  private remaining: number
  private server?: http.Server
  port = 0

  constructor(private readonly opts: SpecServerOptions, private readonly validator?: SpecValidator) {
    this.remaining = opts.rateLimit
    this.routes = opts.routes.map(r => {
      const names: string[] = []
      const re = new RegExp(`^${r.path.replace(/\{(\w+)\}/g, (_, n: string) => (names.push(n), '([^/]+)'))}$`)
      return {...r, re, names}
    })
  }

  get checked(): boolean {
    return this.validator !== undefined
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`
  }

  failNext(fault: Fault): void {
    this.faults.push({...fault, left: fault.times ?? 1})
  }

  /** Returns and clears the violations (for a test that provokes one on purpose). */
  takeViolations(): string[] {
    return this.violations.splice(0)
  }

  async listen(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        this.violations.push(`the fake failed on ${req.method} ${req.url}: ${(error as Error).stack}`)
        if (!res.headersSent) res.writeHead(500).end()
      })
    })
    await new Promise<void>(resolve => this.server!.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise(resolve => this.server?.close(resolve))
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const url = new URL(req.url ?? '/', this.origin)
    const method = req.method ?? 'GET'
    // A path outside the prefix keeps a leading '!' so that no route matches it.
    const p = url.pathname.startsWith(`${this.opts.prefix}/`) ? url.pathname.slice(this.opts.prefix.length) : `!${url.pathname}`
    const {reply, op} = this.dispatch(method, p, url.searchParams, req.headers, Buffer.concat(chunks).toString('utf8'))
    if (op) {
      for (const v of this.validator?.validateResponse(op, reply.status, reply.body) ?? []) {
        this.violations.push(`${method} ${p} answered ${reply.status} (${op}): response ${v}`)
      }
    }
    this.requests.push({method, path: p, search: url.search, status: reply.status, at: Date.now()})
    const reset = Math.floor(Date.now() / 1000) + 3600
    this.remaining = Math.max(0, this.remaining - 1)
    const headers = {...this.opts.rateLimitHeaders(this.opts.rateLimit, this.remaining, reset), ...reply.headers}
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end()
    } else {
      res.writeHead(reply.status, {'content-type': 'application/json', ...headers}).end(JSON.stringify(reply.body))
    }
  }

  private dispatch(method: string, p: string, query: URLSearchParams, headers: http.IncomingHttpHeaders, text: string): {reply: FakeReply; op?: string} {
    const route = this.routes.find(r => r.method === method && r.re.test(p))
    if (!route) {
      this.violations.push(`no fake route for ${method} ${p}`)
      return {reply: this.failure(this.describe(404))}
    }
    const op = route.op
    const fault = this.takeFault(method, p)
    if (fault && !fault.afterApply) return {reply: this.faultReply(fault), op}
    if (headers.authorization !== `Bearer ${this.opts.token}`) return {reply: this.failure(this.describe(401)), op}
    let body: unknown
    try {
      body = text === '' ? undefined : JSON.parse(text)
    } catch {
      this.violations.push(`${method} ${p}: the request body is not JSON`)
      return {reply: this.failure(this.describe(400)), op}
    }
    const problems = this.validator?.validateRequest(method, p, toObject(query), headers, body) ?? []
    if (problems.length > 0) {
      this.violations.push(...problems.map(v => `${method} ${p} (${op}): request ${v}`))
      return {reply: this.failure(new ApiFailure(this.opts.invalidStatus, this.describe(this.opts.invalidStatus).code, `invalid input: ${problems.join('; ')}`)), op}
    }
    const m = route.re.exec(p)!
    const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]))
    let reply: FakeReply
    try {
      reply = route.handle({params, query, body})
    } catch (error) {
      if (!(error instanceof ApiFailure)) {
        this.violations.push(`the fake crashed on ${method} ${p}: ${(error as Error).stack}`)
        return {reply: this.failure(this.describe(500)), op}
      }
      reply = this.failure(error)
    }
    return {reply: fault ? this.faultReply(fault) : reply, op}
  }

  private describe(status: number): ApiFailure {
    const d = this.opts.describe(status)
    return new ApiFailure(status, d.code, d.message)
  }

  private failure(f: ApiFailure): FakeReply {
    return {status: f.status, body: this.opts.errorBody(f, randomUUID())}
  }

  private takeFault(method: string, p: string): Fault | undefined {
    const i = this.faults.findIndex(f => (!f.method || f.method === method) && f.path.test(p))
    if (i < 0) return undefined
    const f = this.faults[i]
    if (--f.left <= 0) this.faults.splice(i, 1)
    return f
  }

  private faultReply(f: Fault): FakeReply {
    const reply = this.failure(this.describe(f.status))
    if (f.status !== 429) return {...reply, headers: f.retryAfter === undefined ? {} : {'retry-after': String(f.retryAfter)}}
    const reset = Math.floor(Date.now() / 1000) + (f.resetIn ?? (typeof f.retryAfter === 'number' ? f.retryAfter : 60))
    const headers = {...this.opts.rateLimitHeaders(this.opts.rateLimit, 0, reset), ...(f.retryAfter === undefined ? {} : {'retry-after': String(f.retryAfter)})}
    return {...reply, headers}
  }
}

function toObject(q: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const k of new Set(q.keys())) {
    const all = q.getAll(k)
    out[k] = all.length === 1 ? all[0] : all
  }
  return out
}

export async function startSpecServer(opts: SpecServerOptions): Promise<SpecServer> {
  const server = new SpecServer(opts, await loadSpecValidator(opts.spec))
  await server.listen()
  return server
}
