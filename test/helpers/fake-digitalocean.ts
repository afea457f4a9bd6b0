import {createHash} from 'node:crypto'
import {ApiFailure, startSpecServer} from './openapi-validator.js'
import type {Fault, FakeReply, FakeRequest, Route, SpecServer} from './openapi-validator.js'

export interface FakeDigitalOceanOptions {
  token?: string
  /** Public IPv4 addresses handed to new droplets in order (freed on delete), or a function of the droplet's name. */
  addressPool?: string[] | ((name: string, index: number) => string)
  /** How many reads a new droplet or an action answers "new"/"in-progress" before it is done (default 1). */
  actionPolls?: number
  /** Or: milliseconds after which a droplet or action is done without being read. */
  actionMs?: number
  /** Clamp per_page (the real API clamps at 200) so tests can page through a few droplets. */
  maxPerPage?: number
  /** account.droplet_limit (default 25). */
  dropletLimit?: number
}

type Progress = {polls: number; born: number}
type Droplet = Progress & {id: number; name: string; status: 'new' | 'active'; size: string; region: string; image: string | number;
  tags: string[]; created_at: string; ipv4: string}
type Action = Progress & {id: number; type: string; status: 'in-progress' | 'completed' | 'errored'; droplet: number; region: string;
  started_at: string; completed_at: string | null; done?: () => void}
type Snapshot = {id: number; name: string; created_at: string; region: string; resource_id: number; tags: string[]}
type Key = {id: number; name: string; fingerprint: string; public_key: string}

const API = 'https://api.digitalocean.com'
const REGIONS: Record<string, string> = {nyc3: 'New York 3', fra1: 'Frankfurt 1', ams3: 'Amsterdam 3'}
const SIZES: Record<string, {vcpus: number; memory: number; disk: number; monthly: number}> = {
  's-1vcpu-1gb': {vcpus: 1, memory: 1024, disk: 25, monthly: 6},
  's-2vcpu-2gb': {vcpus: 2, memory: 2048, disk: 60, monthly: 18},
  's-2vcpu-4gb': {vcpus: 2, memory: 4096, disk: 80, monthly: 24},
}
const IMAGES: Record<string, number> = {'ubuntu-24-04-x64': 160232537, 'debian-12-x64': 145245178}

export class FakeDigitalOcean {
  readonly token: string
  readonly droplets = new Map<number, Droplet>()
  readonly snapshots = new Map<number, Snapshot>()
  readonly keys = new Map<number, Key>()
  readonly tags = new Set<string>()
  private readonly actions = new Map<number, Action>()
  private readonly free: string[]
  private nextId = 3_000_000
  private allocated = 0
  private snapshotFailures = 0
  http!: SpecServer

  constructor(readonly opts: FakeDigitalOceanOptions = {}) {
    this.token = opts.token ?? 'dop_v1_fake0123456789abcdef'
    this.free = Array.isArray(opts.addressPool) ? [...opts.addressPool] : []
  }

  /** The base URL to pass as the adapter's endpoint (without /v2, like https://api.digitalocean.com). */
  get endpoint(): string {
    return this.http.origin
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

  /** The next snapshot action ends "errored" and leaves no snapshot, as when DigitalOcean fails one. */
  failSnapshot(): void {
    this.snapshotFailures++
  }

  takeViolations(): string[] {
    return this.http.takeViolations()
  }

  close(): Promise<void> {
    return this.http.close()
  }

  routes(): Route[] {
    const r = (op: string, method: string, path: string, handle: (q: FakeRequest) => FakeReply): Route => ({op, method, path, handle})
    return [
      r('droplets_list', 'GET', '/v2/droplets', q => this.page(q, '/v2/droplets', 'droplets', [...this.droplets.values()]
        .filter(d => (!q.query.get('tag_name') || d.tags.includes(q.query.get('tag_name')!))
          && (!q.query.get('name') || d.name.toLowerCase() === q.query.get('name')!.toLowerCase()))
        .map(d => this.dropletBody(d)))),
      r('droplets_create', 'POST', '/v2/droplets', q => this.createDroplets(q.body)),
      r('droplets_get', 'GET', '/v2/droplets/{droplet_id}', q => {
        const d = this.droplet(q.params.droplet_id)
        this.advance(d, () => (d.status = 'active'))
        return {status: 200, body: {droplet: this.dropletBody(d)}}
      }),
      r('droplets_destroy', 'DELETE', '/v2/droplets/{droplet_id}', q => {
        const d = this.droplet(q.params.droplet_id)
        this.droplets.delete(d.id)
        if (Array.isArray(this.opts.addressPool)) this.free.push(d.ipv4)
        return {status: 204}
      }),
      r('dropletActions_post', 'POST', '/v2/droplets/{droplet_id}/actions', q => this.dropletAction(this.droplet(q.params.droplet_id), q.body)),
      r('dropletActions_get', 'GET', '/v2/droplets/{droplet_id}/actions/{action_id}', q => {
        const a = this.actions.get(Number(q.params.action_id))
        if (!a || a.droplet !== Number(q.params.droplet_id)) throw notFound()
        this.advance(a, () => this.finish(a))
        return {status: 200, body: {action: actionBody(a)}}
      }),
      r('snapshots_list', 'GET', '/v2/snapshots', q => this.page(q, '/v2/snapshots', 'snapshots', [...this.snapshots.values()]
        .filter(() => q.query.get('resource_type') !== 'volume')
        .map(s => ({...snapshotBody(s), id: String(s.id), resource_id: String(s.resource_id), resource_type: 'droplet', tags: s.tags})))),
      r('droplets_list_snapshots', 'GET', '/v2/droplets/{droplet_id}/snapshots', q => {
        const d = this.droplet(q.params.droplet_id)
        const mine = [...this.snapshots.values()].filter(s => s.resource_id === d.id)
        return this.page(q, `/v2/droplets/${d.id}/snapshots`, 'snapshots', mine.map(s => ({...snapshotBody(s), type: 'snapshot'})))
      }),
      r('snapshots_delete', 'DELETE', '/v2/snapshots/{snapshot_id}', q => {
        if (!this.snapshots.delete(Number(q.params.snapshot_id))) throw notFound()
        return {status: 204}
      }),
      r('tags_create', 'POST', '/v2/tags', q => {
        this.tags.add(q.body.name)
        return {status: 201, body: {tag: {name: q.body.name, resources: {count: 0}}}}
      }),
      r('tags_assign_resources', 'POST', '/v2/tags/{tag_id}/resources', q => this.tag(q.params.tag_id, q.body.resources)),
      r('sshKeys_list', 'GET', '/v2/account/keys', q => this.page(q, '/v2/account/keys', 'ssh_keys', [...this.keys.values()])),
      r('sshKeys_create', 'POST', '/v2/account/keys', q => this.createKey(q.body)),
      r('account_get', 'GET', '/v2/account', () => ({status: 200, body: {account: {droplet_limit: this.opts.dropletLimit ?? 25, floating_ip_limit: 3,
        email: 'fleet@example.com', name: 'Fleet Test', uuid: 'b6fr89dbf6d9156cace5f3c78dc9851d957381ef', email_verified: true,
        status: 'active', status_message: ''}}})),
      r('sizes_list', 'GET', '/v2/sizes', q => this.page(q, '/v2/sizes', 'sizes', Object.keys(SIZES).map(sizeBody))),
    ]
  }

  private createDroplets(b: {name?: string; names?: string[]; size: string; region?: string; image: string | number; tags?: string[] | null}): FakeReply {
    const names = b.names ?? [b.name!]
    // Not in the spec: the API takes at most 10 names per request.
    if (names.length > 10) throw unprocessable('You may only create a maximum of 10 droplets at a time.')
    if (this.droplets.size + names.length > (this.opts.dropletLimit ?? 25)) {
      throw unprocessable(`creating this/these droplet(s) will exceed your droplet limit`)
    }
    const region = b.region ?? 'nyc3'
    if (!SIZES[b.size]) throw unprocessable(`${b.size} is not a valid size`)
    if (!REGIONS[region]) throw unprocessable(`${region} is not a valid region`)
    if (typeof b.image === 'number' ? !this.snapshots.has(b.image) : !IMAGES[b.image]) throw unprocessable(`You specified an invalid image for Droplet creation.`)
    for (const t of b.tags ?? []) this.tags.add(t)
    const created = names.map(name => {
      const d: Droplet = {id: this.nextId++, name, status: 'new', size: b.size, region, image: b.image, tags: [...(b.tags ?? [])],
        created_at: new Date().toISOString(), ipv4: this.address(name), polls: 0, born: Date.now()}
      this.droplets.set(d.id, d)
      return d
    })
    const links = {actions: created.map(d => ({id: this.nextId++, rel: 'create', href: `${API}/v2/actions/${d.id}`}))}
    return b.names
      ? {status: 202, body: {droplets: created.map(d => this.dropletBody(d)), links}}
      : {status: 202, body: {droplet: this.dropletBody(created[0]), links}}
  }

  private dropletAction(d: Droplet, b: {type: string; name?: string}): FakeReply {
    if (b.type !== 'snapshot') throw unprocessable(`the fake only implements snapshot actions, not ${b.type}`)
    const fail = this.snapshotFailures > 0
    if (fail) this.snapshotFailures--
    const a: Action = {id: this.nextId++, type: 'snapshot', status: 'in-progress', droplet: d.id, region: d.region, started_at: new Date().toISOString(),
      completed_at: null, polls: 0, born: Date.now()}
    a.done = () => {
      a.status = fail ? 'errored' : 'completed'
      if (!fail) {
        const s: Snapshot = {id: this.nextId++, name: b.name ?? `${d.name}-${Date.now()}`, created_at: new Date().toISOString(), region: d.region, resource_id: d.id, tags: []}
        this.snapshots.set(s.id, s)
      }
    }
    this.actions.set(a.id, a)
    return {status: 201, body: {action: actionBody(a)}}
  }

  private tag(name: string, resources: {resource_id?: string; resource_type?: string}[]): FakeReply {
    if (!this.tags.has(name)) throw notFound()
    for (const r of resources) {
      const target = r.resource_type === 'image' ? this.snapshots.get(Number(r.resource_id)) : this.droplets.get(Number(r.resource_id))
      if (!target) throw notFound()
      if (!target.tags.includes(name)) target.tags.push(name)
    }
    return {status: 204}
  }

  private createKey(b: {name: string; public_key: string}): FakeReply {
    const blob = Buffer.from(b.public_key.trim().split(/\s+/)[1] ?? '', 'base64')
    if (blob.length === 0) throw unprocessable('Key invalid type, we support id_rsa (RSA), id_dsa (DSA), id_ecdsa (ECDSA), id_ed25519 (ED25519)')
    const fingerprint = createHash('md5').update(blob).digest('hex').match(/../g)!.join(':')
    if ([...this.keys.values()].some(k => k.fingerprint === fingerprint)) throw unprocessable('SSH Key is already in use on your account')
    const key: Key = {id: this.nextId++, name: b.name, fingerprint, public_key: b.public_key}
    this.keys.set(key.id, key)
    return {status: 201, body: {ssh_key: key}}
  }

  /** Counts a read of something in progress and runs `done` once it has been read actionPolls times (or actionMs passed). */
  private advance(p: Progress, done: () => void): void {
    const timeUp = this.opts.actionMs !== undefined && Date.now() - p.born >= this.opts.actionMs
    if (timeUp || p.polls >= (this.opts.actionPolls ?? 1)) done()
    p.polls++
  }

  private finish(a: Action): void {
    if (a.status !== 'in-progress') return
    a.completed_at = new Date().toISOString()
    a.done?.()
  }

  private tick(d: Droplet): Droplet {
    if (this.opts.actionMs !== undefined && Date.now() - d.born >= this.opts.actionMs) d.status = 'active'
    return d
  }

  private page<T>(q: FakeRequest, path: string, key: string, items: T[]): FakeReply {
    const perPage = Math.min(Number(q.query.get('per_page') ?? 20), this.opts.maxPerPage ?? 200)
    const page = Number(q.query.get('page') ?? 1)
    const last = Math.max(1, Math.ceil(items.length / perPage))
    const link = (n: number) => {
      const u = new URL(API + path)
      for (const [k, v] of q.query) u.searchParams.set(k, v)
      u.searchParams.set('page', String(n))
      u.searchParams.set('per_page', String(perPage))
      return u.toString()
    }
    const pages = {...(page > 1 ? {first: link(1), prev: link(page - 1)} : {}), ...(page < last ? {next: link(page + 1), last: link(last)} : {})}
    return {status: 200, body: {[key]: items.slice((page - 1) * perPage, page * perPage), links: {pages}, meta: {total: items.length}}}
  }

  private droplet(id: string): Droplet {
    const d = this.droplets.get(Number(id))
    if (!d) throw notFound()
    return this.tick(d)
  }

  private address(name: string): string {
    const pool = this.opts.addressPool
    const n = this.allocated++
    if (typeof pool === 'function') return pool(name, n)
    if (!pool) return `203.0.113.${(n % 250) + 1}`
    const ip = this.free.shift()
    if (!ip) throw unprocessable('no IPv4 address left in the fake addressPool')
    return ip
  }

  private dropletBody(d: Droplet) {
    this.tick(d)
    const size = SIZES[d.size]
    const v4 = d.status === 'active'
      ? [{ip_address: d.ipv4, netmask: '255.255.240.0', gateway: d.ipv4.replace(/\.\d+$/, '.1'), type: 'public'},
        {ip_address: `10.110.0.${(d.id % 250) + 2}`, netmask: '255.255.240.0', gateway: '10.110.0.1', type: 'private'}]
      : []
    const image = typeof d.image === 'number'
      ? {id: d.image, name: this.snapshots.get(d.image)?.name ?? 'snapshot', type: 'snapshot', distribution: 'Ubuntu', public: false, regions: [d.region]}
      : {id: IMAGES[d.image], name: d.image, slug: d.image, type: 'base', distribution: 'Ubuntu', public: true, regions: [d.region]}
    return {
      id: d.id, name: d.name, memory: size.memory, vcpus: size.vcpus, disk: size.disk, locked: false, status: d.status,
      created_at: d.created_at, features: ['droplet_agent', 'private_networking'], backup_ids: [], next_backup_window: null,
      snapshot_ids: [...this.snapshots.values()].filter(s => s.resource_id === d.id).map(s => s.id), image, volume_ids: [],
      size: sizeBody(d.size), size_slug: d.size, networks: {v4, v6: []}, region: regionBody(d.region), tags: d.tags,
      vpc_uuid: '5a4981aa-9653-4bd1-bef5-d6bff52042e4',
    }
  }
}

function regionBody(slug: string) {
  return {name: REGIONS[slug], slug, features: ['backups', 'ipv6', 'metadata', 'storage'], available: true, sizes: Object.keys(SIZES)}
}

function sizeBody(slug: string) {
  const s = SIZES[slug]
  return {slug, memory: s.memory, vcpus: s.vcpus, disk: s.disk, transfer: 1, price_monthly: s.monthly, price_hourly: Number((s.monthly / 672).toFixed(5)),
    regions: Object.keys(REGIONS), available: true, description: 'Basic'}
}

function snapshotBody(s: Snapshot) {
  return {id: s.id, name: s.name, created_at: s.created_at, regions: [s.region], min_disk_size: 25, size_gigabytes: 2.34}
}

function actionBody(a: Action) {
  return {id: a.id, status: a.status, type: a.type, started_at: a.started_at, completed_at: a.completed_at, resource_id: a.droplet,
    resource_type: 'droplet', region: regionBody(a.region), region_slug: a.region}
}

const notFound = () => new ApiFailure(404, 'not_found', 'The resource you were accessing could not be found.')
const unprocessable = (message: string) => new ApiFailure(422, 'unprocessable_entity', message)

const STATUS: Record<number, [string, string]> = {
  400: ['bad_request', 'The request could not be parsed.'], 401: ['unauthorized', 'Unable to authenticate you.'],
  404: ['not_found', 'The resource you were accessing could not be found.'], 422: ['unprocessable_entity', 'The request was invalid.'],
  429: ['too_many_requests', 'API rate limit exceeded.'], 500: ['server_error', 'Unexpected server-side error'],
  503: ['service_unavailable', 'The service is temporarily unavailable.'],
}

export async function startFakeDigitalOcean(opts: FakeDigitalOceanOptions = {}): Promise<FakeDigitalOcean> {
  const fake = new FakeDigitalOcean(opts)
  fake.http = await startSpecServer({
    spec: 'digitalocean-openapi.json', prefix: '', token: fake.token, routes: fake.routes(), invalidStatus: 422, rateLimit: 5000,
    describe: status => {
      const [code, message] = STATUS[status] ?? ['server_error', `status ${status}`]
      return {code, message}
    },
    errorBody: (f, requestId) => ({id: f.code, message: f.message, request_id: requestId}),
    rateLimitHeaders: (limit, remaining, reset) => ({'ratelimit-limit': String(limit), 'ratelimit-remaining': String(remaining), 'ratelimit-reset': String(reset)}),
  })
  return fake
}
