import {createHash} from 'node:crypto'
import {ApiFailure, startSpecServer} from './openapi-validator.js'
import type {Fault, FakeReply, FakeRequest, Route, SpecServer} from './openapi-validator.js'

export interface FakeHetznerOptions {
  token?: string
  /** Public IPv4 addresses handed to new servers in order (freed on delete), or a function of the server's name. */
  addressPool?: string[] | ((name: string, index: number) => string)
  /** Give servers an IPv6 network; off by default, so public_net.ipv6 is null as for an IPv4-only server. */
  ipv6?: boolean
  /** How many polls an action answers "running" before it finishes (default 1). */
  actionPolls?: number
  /** Or: milliseconds after which an action finishes without being polled. */
  actionMs?: number
  /** Clamp per_page (the real API clamps at 50) so tests can page through a few servers. */
  maxPerPage?: number
}

type Action = {id: number; command: string; status: 'running' | 'success' | 'error'; started: string; finished: string | null; progress: number;
  resources: {id: number; type: string}[]; error: {code: string; message: string} | null}
type Tracked = {action: Action; polls: number; born: number; fail?: {code: string; message: string}; done?: () => void}
type Server = {id: number; name: string; status: string; type: string; location: string; image: string; labels: Record<string, string>;
  created: string; ipv4: string; ipv6?: string}
type Image = {id: number; type: 'system' | 'snapshot'; status: 'available' | 'creating'; name: string | null; description: string;
  image_size: number | null; created: string; created_from: {id: number; name: string} | null; labels: Record<string, string>}
type Key = {id: number; name: string; fingerprint: string; public_key: string; labels: Record<string, string>; created: string}

const money = (n: number) => ({net: n.toFixed(4), gross: (n * 1.19).toFixed(4)})
const LOCATIONS: Record<string, {id: number; city: string; country: string; zone: string}> = {
  fsn1: {id: 1, city: 'Falkenstein', country: 'DE', zone: 'eu-central'},
  nbg1: {id: 2, city: 'Nuremberg', country: 'DE', zone: 'eu-central'},
  hel1: {id: 3, city: 'Helsinki', country: 'FI', zone: 'eu-central'},
}
const TYPES: Record<string, {id: number; cores: number; memory: number; disk: number; monthly: number; arch: 'x86' | 'arm'}> = {
  cx22: {id: 104, cores: 2, memory: 4, disk: 40, monthly: 3.79, arch: 'x86'},
  cpx21: {id: 9, cores: 3, memory: 4, disk: 80, monthly: 7.55, arch: 'x86'},
  cax11: {id: 45, cores: 2, memory: 4, disk: 40, monthly: 3.79, arch: 'arm'},
}
const EPOCH = '2026-01-01T00:00:00+00:00'

export class FakeHetzner {
  readonly token: string
  readonly servers = new Map<number, Server>()
  readonly images = new Map<number, Image>()
  readonly keys = new Map<number, Key>()
  private readonly actions = new Map<number, Tracked>()
  private readonly free: string[]
  private nextId = 1000
  private allocated = 0
  private snapshotFailures: {code: string; message: string}[] = []
  http!: SpecServer

  constructor(readonly opts: FakeHetznerOptions = {}) {
    this.token = opts.token ?? 'hcloud-fake-token-0123456789'
    this.free = Array.isArray(opts.addressPool) ? [...opts.addressPool] : []
    for (const [id, name] of [[161547269, 'ubuntu-24.04'], [114690387, 'debian-12']] as const) {
      this.images.set(id, {id, type: 'system', status: 'available', name, description: name, image_size: null, created: EPOCH, created_from: null, labels: {}})
    }
  }

  /** The base URL to pass as the adapter's endpoint. */
  get endpoint(): string {
    return `${this.http.origin}/v1`
  }

  get violations(): string[] {
    return this.http.violations
  }

  get specChecked(): boolean {
    return this.http.checked
  }

  get requests() {
    return this.http.requests
  }

  failNext(fault: Fault): void {
    this.http.failNext(fault)
  }

  /** The next create_image action ends in error (and its image is removed), as when Hetzner fails a snapshot. */
  failSnapshot(error = {code: 'action_failed', message: 'Action failed'}): void {
    this.snapshotFailures.push(error)
  }

  takeViolations(): string[] {
    return this.http.takeViolations()
  }

  /** Finishes every running action now. */
  settle(): void {
    for (const t of this.actions.values()) this.finish(t)
  }

  close(): Promise<void> {
    return this.http.close()
  }

  routes(): Route[] {
    const r = (op: string, method: string, path: string, handle: (q: FakeRequest) => FakeReply): Route => ({op, method, path, handle})
    return [
      r('list_servers', 'GET', '/servers', q => this.page(q, 'servers', [...this.servers.values()]
        .filter(s => (!q.query.get('name') || s.name === q.query.get('name')) && matches(s.labels, q.query.get('label_selector')))
        .map(s => this.serverBody(s)))),
      r('get_server', 'GET', '/servers/{id}', q => {
        const s = this.server(q.params.id)
        // Reading a server counts as a poll of its running actions, so a client that lost an action id still sees progress.
        for (const t of this.actions.values()) if (t.action.resources.some(r => r.id === s.id)) this.advance(t)
        return {status: 200, body: {server: this.serverBody(s)}}
      }),
      r('create_server', 'POST', '/servers', q => this.createServer(q.body)),
      r('delete_server', 'DELETE', '/servers/{id}', q => {
        const s = this.server(q.params.id)
        this.servers.delete(s.id)
        if (Array.isArray(this.opts.addressPool)) this.free.push(s.ipv4)
        return {status: 200, body: {action: this.start('delete_server', s.id)}}
      }),
      r('get_action', 'GET', '/actions/{id}', q => ({status: 200, body: {action: this.poll(Number(q.params.id))}})),
      r('list_images', 'GET', '/images', q => this.page(q, 'images', [...this.images.values()]
        .filter(i => (q.query.getAll('type').length === 0 || q.query.getAll('type').includes(i.type)) && matches(i.labels, q.query.get('label_selector')))
        .map(i => imageBody(i)))),
      r('get_image', 'GET', '/images/{id}', q => ({status: 200, body: {image: imageBody(this.image(q.params.id))}})),
      r('delete_image', 'DELETE', '/images/{id}', q => {
        this.images.delete(this.image(q.params.id).id)
        return {status: 204}
      }),
      r('create_server_image', 'POST', '/servers/{id}/actions/create_image', q => this.createImage(this.server(q.params.id), q.body)),
      r('list_ssh_keys', 'GET', '/ssh_keys', q => this.page(q, 'ssh_keys', [...this.keys.values()]
        .filter(k => (!q.query.get('name') || k.name === q.query.get('name')) && (!q.query.get('fingerprint') || k.fingerprint === q.query.get('fingerprint'))))),
      r('create_ssh_key', 'POST', '/ssh_keys', q => this.createKey(q.body)),
      r('get_pricing', 'GET', '/pricing', () => ({status: 200, body: {pricing: pricingBody()}})),
    ]
  }

  private createServer(b: {name: string; server_type: string; location?: string; image: string; labels?: Record<string, string>; user_data?: string}): FakeReply {
    if ([...this.servers.values()].some(s => s.name === b.name)) throw new ApiFailure(409, 'uniqueness_error', 'server name is already used', {fields: [{name: 'name'}]})
    if (!TYPES[b.server_type]) throw invalid('server_type', 'server type not found')
    const location = b.location ?? 'fsn1'
    if (!LOCATIONS[location]) throw invalid('location', 'location not found')
    if (!this.findImage(b.image)) throw invalid('image', 'image not found')
    if ((b.user_data?.length ?? 0) > 32 * 1024) throw invalid('user_data', 'is too long')
    const id = this.nextId++
    const s: Server = {id, name: b.name, status: 'initializing', type: b.server_type, location, image: b.image, labels: b.labels ?? {},
      created: new Date().toISOString(), ipv4: this.address(b.name), ipv6: this.opts.ipv6 ? `2a01:4f8:c0c:${id.toString(16)}::/64` : undefined}
    this.servers.set(id, s)
    const create = this.start('create_server', id, () => (s.status = s.status === 'initializing' ? 'starting' : s.status))
    const boot = this.start('start_server', id, () => (s.status = 'running'))
    return {status: 201, body: {server: this.serverBody(s), action: create, next_actions: [boot], root_password: null}}
  }

  private createImage(s: Server, b: {description?: string; labels?: Record<string, string>; type?: string}): FakeReply {
    const id = this.nextId++
    const image: Image = {id, type: 'snapshot', status: 'creating', name: null, description: b.description ?? `${s.name}-snapshot`,
      image_size: null, created: new Date().toISOString(), created_from: {id: s.id, name: s.name}, labels: b.labels ?? {}}
    this.images.set(id, image)
    const fail = this.snapshotFailures.shift()
    const action = this.start('create_image', s.id, () => {
      if (fail) this.images.delete(id)
      else Object.assign(image, {status: 'available', image_size: 1.73})
    }, fail)
    return {status: 201, body: {image: imageBody(image), action}}
  }

  private createKey(b: {name: string; public_key: string; labels?: Record<string, string>}): FakeReply {
    const blob = Buffer.from(b.public_key.trim().split(/\s+/)[1] ?? '', 'base64')
    if (blob.length === 0) throw invalid('public_key', 'invalid public key')
    const fingerprint = createHash('md5').update(blob).digest('hex').match(/../g)!.join(':')
    for (const k of this.keys.values()) {
      if (k.fingerprint === fingerprint) throw new ApiFailure(409, 'uniqueness_error', 'SSH key with the same fingerprint already exists', {fields: [{name: 'public_key'}]})
      if (k.name === b.name) throw new ApiFailure(409, 'uniqueness_error', 'SSH key with the same name already exists', {fields: [{name: 'name'}]})
    }
    const key: Key = {id: this.nextId++, name: b.name, fingerprint, public_key: b.public_key, labels: b.labels ?? {}, created: new Date().toISOString()}
    this.keys.set(key.id, key)
    return {status: 201, body: {ssh_key: key}}
  }

  private start(command: string, resource: number, done?: () => void, fail?: {code: string; message: string}): Action {
    const action: Action = {id: this.nextId++, command, status: 'running', started: new Date().toISOString(), finished: null, progress: 0,
      resources: [{id: resource, type: 'server'}], error: null}
    const t: Tracked = {action, polls: 0, born: Date.now(), fail, done}
    this.actions.set(action.id, t)
    if ((this.opts.actionPolls ?? 1) <= 0 && this.opts.actionMs === undefined) this.finish(t)
    return {...action}
  }

  private poll(id: number): Action {
    const t = this.actions.get(id)
    if (!t) throw new ApiFailure(404, 'not_found', `action with ID '${id}' not found`)
    this.advance(t)
    return {...t.action}
  }

  private advance(t: Tracked): void {
    const timeUp = this.opts.actionMs !== undefined && Date.now() - t.born >= this.opts.actionMs
    if (timeUp || t.polls >= (this.opts.actionPolls ?? 1)) this.finish(t)
    t.polls++
  }

  private finish(t: Tracked): void {
    if (t.action.status !== 'running') return
    Object.assign(t.action, {status: t.fail ? 'error' : 'success', progress: 100, finished: new Date().toISOString(), error: t.fail ?? null})
    t.done?.()
  }

  private tick(): void {
    if (this.opts.actionMs === undefined) return
    for (const t of this.actions.values()) if (Date.now() - t.born >= this.opts.actionMs) this.finish(t)
  }

  private page<T>(q: FakeRequest, key: string, items: T[]): FakeReply {
    const perPage = Math.min(Number(q.query.get('per_page') ?? 25), this.opts.maxPerPage ?? 50)
    const last = Math.max(1, Math.ceil(items.length / perPage))
    const page = Number(q.query.get('page') ?? 1)
    const pagination = {page, per_page: perPage, previous_page: page > 1 ? page - 1 : null, next_page: page < last ? page + 1 : null,
      last_page: last, total_entries: items.length}
    return {status: 200, body: {[key]: items.slice((page - 1) * perPage, page * perPage), meta: {pagination}}}
  }

  private server(id: string): Server {
    this.tick()
    const s = this.servers.get(Number(id))
    if (!s) throw new ApiFailure(404, 'not_found', `server with ID '${id}' not found`)
    return s
  }

  private image(id: string): Image {
    this.tick()
    const i = this.images.get(Number(id))
    if (!i) throw new ApiFailure(404, 'not_found', `image with ID '${id}' not found`)
    return i
  }

  private findImage(ref: string): Image | undefined {
    return [...this.images.values()].find(i => String(i.id) === ref || i.name === ref)
  }

  private address(name: string): string {
    const pool = this.opts.addressPool
    const n = this.allocated++
    if (typeof pool === 'function') return pool(name, n)
    if (!pool) return `192.0.2.${(n % 250) + 1}`
    const ip = this.free.shift()
    if (!ip) throw new ApiFailure(412, 'resource_unavailable', 'no IPv4 address left in the fake addressPool')
    return ip
  }

  private serverBody(s: Server) {
    this.tick()
    const t = TYPES[s.type]
    const loc = locationBody(s.location)
    const image = this.findImage(s.image)
    return {
      id: s.id, name: s.name, status: s.status, created: s.created,
      public_net: {ipv4: {id: s.id + 1_000_000, ip: s.ipv4, blocked: false, dns_ptr: `static.${s.ipv4}.clients.your-server.de`},
        ipv6: s.ipv6 ? {id: s.id + 2_000_000, ip: s.ipv6, blocked: false, dns_ptr: []} : null, floating_ips: [], firewalls: []},
      private_net: [],
      server_type: serverTypeBody(s.type),
      datacenter: {id: loc.id, name: `${s.location}-dc1`, description: `${loc.city} DC 1`, location: loc,
        server_types: {supported: [t.id], available: [t.id], available_for_migration: [t.id]}},
      location: loc,
      image: image ? imageBody(image) : null,
      iso: null, rescue_enabled: false, locked: false, backup_window: null,
      outgoing_traffic: 0, ingoing_traffic: 0, included_traffic: 21990232555520,
      protection: {delete: false, rebuild: false}, labels: s.labels, volumes: [], load_balancers: [], primary_disk_size: t.disk,
    }
  }
}

function invalid(field: string, message: string): ApiFailure {
  return new ApiFailure(422, 'invalid_input', `invalid input in field '${field}': ${message}`, {fields: [{name: field, messages: [message]}]})
}

/** A Hetzner label selector: comma-separated `k=v`, `k==v`, `k!=v`, `k` and `!k`. */
function matches(labels: Record<string, string>, selector: string | null): boolean {
  if (!selector) return true
  return selector.split(',').every(term => {
    const m = /^(!?)([^=!]+)(?:(==|=|!=)(.*))?$/.exec(term.trim())
    if (!m) return false
    const [, not, key, op, value] = m
    if (!op) return not ? !(key in labels) : key in labels
    return op === '!=' ? labels[key] !== value : labels[key] === value
  })
}

function locationBody(name: string) {
  const l = LOCATIONS[name]
  return {id: l.id, name, description: `${l.city} DC Park 1`, country: l.country, city: l.city, latitude: 50.47612, longitude: 12.370071, network_zone: l.zone}
}

function typePrices(name: string) {
  const t = TYPES[name]
  return Object.keys(LOCATIONS).map(location => ({location, price_hourly: money(t.monthly / 730), price_monthly: money(t.monthly),
    included_traffic: 21990232555520, price_per_tb_traffic: money(1)}))
}

function serverTypeBody(name: string) {
  const t = TYPES[name]
  return {id: t.id, name, description: name.toUpperCase(), cores: t.cores, memory: t.memory, disk: t.disk, deprecated: false,
    prices: typePrices(name), storage_type: 'local', cpu_type: 'shared', architecture: t.arch,
    locations: Object.entries(LOCATIONS).map(([n, l]) => ({id: l.id, name: n, deprecation: null, recommended: true, available: true}))}
}

function imageBody(i: Image) {
  return {id: i.id, type: i.type, status: i.status, name: i.name, description: i.description, image_size: i.image_size, disk_size: 40,
    created: i.created, created_from: i.created_from, bound_to: null, os_flavor: 'ubuntu', os_version: i.type === 'system' ? '24.04' : null,
    rapid_deploy: i.type === 'system', protection: {delete: false}, deprecated: null, deleted: null, labels: i.labels, architecture: 'x86'}
}

function pricingBody() {
  const ip = (type: 'ipv4' | 'ipv6') => ({type, prices: Object.keys(LOCATIONS).map(location => ({location, price_hourly: money(0.0008), price_monthly: money(0.5)}))})
  return {
    currency: 'EUR', vat_rate: '19.00', primary_ips: [ip('ipv4'), ip('ipv6')],
    floating_ips: [{type: 'ipv4', prices: Object.keys(LOCATIONS).map(location => ({location, price_monthly: money(3)}))}],
    image: {price_per_gb_month: money(0.011)}, volume: {price_per_gb_month: money(0.044)}, server_backup: {percentage: '20.00'},
    server_types: Object.entries(TYPES).map(([name, t]) => ({id: t.id, name, prices: typePrices(name)})),
    load_balancer_types: [], floating_ip: {price_monthly: money(3)},
  }
}

const STATUS: Record<number, [string, string]> = {
  400: ['json_error', 'invalid JSON input'], 401: ['unauthorized', 'unable to authenticate'], 404: ['not_found', 'not found'],
  409: ['conflict', 'the resource has changed during the request, please retry'], 412: ['resource_unavailable', 'resource unavailable'],
  422: ['invalid_input', 'invalid input'], 423: ['locked', 'the resource is locked'],
  429: ['rate_limit_exceeded', 'limit of 3600 requests per hour reached'],
  500: ['server_error', 'Error within the API backend'], 502: ['server_error', 'bad gateway'],
  503: ['unavailable', 'A service or product is currently not available'], 504: ['timeout', 'The request could not be answered in time'],
}

export async function startFakeHetzner(opts: FakeHetznerOptions = {}): Promise<FakeHetzner> {
  const fake = new FakeHetzner(opts)
  fake.http = await startSpecServer({
    spec: 'hetzner-cloud-openapi.json', prefix: '/v1', token: fake.token, routes: fake.routes(), invalidStatus: 422, rateLimit: 3600,
    describe: status => {
      const [code, message] = STATUS[status] ?? ['server_error', `status ${status}`]
      return {code, message}
    },
    errorBody: f => ({error: {code: f.code, message: f.message, details: f.details ?? null}}),
    rateLimitHeaders: (limit, remaining, reset) => ({'ratelimit-limit': String(limit), 'ratelimit-remaining': String(remaining), 'ratelimit-reset': String(reset)}),
  })
  return fake
}
