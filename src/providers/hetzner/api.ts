import {ProviderError} from '../../errors.js'
import type {Secret} from '../../secret.js'
import {httpRequest, isNotFound, pollUntil, systemClock} from '../../transport/http.js'
import type {ProviderDeps} from '../types.js'
import type {HAction, HImage, HPricing, HServer, HSshKey} from './map.js'

type Query = Record<string, string | number | undefined>
type Page = {meta?: {pagination?: {next_page?: number | null}}}

export interface CreateServerBody {
  name: string
  server_type: string
  location: string
  image: string
  ssh_keys: string[]
  labels: Record<string, string>
  user_data?: string
  start_after_create: boolean
}

export interface HetznerApiOptions {
  provider: string
  endpoint: string
  token: Secret
  deps: ProviderDeps
  /** How long a create or snapshot action may run. */
  actionTimeoutMs?: number
}

export type HetznerApi = ReturnType<typeof hetznerApi>

/** The Hetzner Cloud endpoints fleet uses, over fetch. Missing resources read as undefined. */
export function hetznerApi(o: HetznerApiOptions) {
  const clock = o.deps.clock ?? systemClock
  const base = o.endpoint.replace(/\/+$/, '')

  async function call<T>(operation: string, target: string, method: string, path: string, query: Query = {}, body?: unknown): Promise<T> {
    const url = new URL(base + path)
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v))
    const res = await httpRequest<T>({
      provider: o.provider, operation, target, tokenEnv: 'HCLOUD_TOKEN', method, url: url.toString(), body,
      headers: {authorization: `Bearer ${o.token.reveal()}`}, signal: o.deps.signal, clock, log: o.deps.log,
      retry: {idempotent: method !== 'POST'},
    })
    return res.body
  }

  async function all<T>(operation: string, target: string, path: string, key: string, query: Query): Promise<T[]> {
    const out: T[] = []
    for (let page: number | null | undefined = 1; page; ) {
      const body: Page & Record<string, T[]> = await call(operation, target, 'GET', path, {...query, page, per_page: 50})
      out.push(...body[key])
      const next: number | null | undefined = body.meta?.pagination?.next_page
      page = next && next > page ? next : undefined
    }
    return out
  }

  const orMissing = <T>(p: Promise<T>): Promise<T | undefined> => p.catch(e => (isNotFound(e) ? undefined : Promise.reject(e)))

  async function getAction(id: number, target: string): Promise<HAction> {
    return (await call<{action: HAction}>('get-action', target, 'GET', `/actions/${id}`)).action
  }

  /** Polls an action until it finishes; an action that ends in error throws PROVIDER_ACTION_FAILED. */
  async function waitForAction(action: HAction, target: string): Promise<HAction> {
    const done = action.status !== 'running' ? action : await pollUntil(() => getAction(action.id, target), a => a.status !== 'running', {
      clock, signal: o.deps.signal, timeoutMs: o.actionTimeoutMs ?? 20 * 60_000,
      onTimeout: () => new ProviderError({provider: o.provider, operation: action.command, target, code: 'PROVIDER_TIMEOUT',
        detail: `action ${action.id} still running`, hint: 'check the action in the Hetzner console, then re-run'}),
    })
    if (done.status === 'error') {
      throw new ProviderError({provider: o.provider, operation: done.command, target, code: 'PROVIDER_ACTION_FAILED',
        detail: `action ${done.id} failed: ${done.error?.code ?? 'error'} (${done.error?.message ?? 'no message'})`,
        hint: 'see the action in the Hetzner console; re-running retries it'})
    }
    return done
  }

  return {
    waitForAction,
    listServers: (q: {labelSelector?: string; name?: string}) =>
      all<HServer>('list-servers', q.name ?? q.labelSelector ?? 'all', '/servers', 'servers', {label_selector: q.labelSelector, name: q.name}),
    getServer: (id: string) =>
      orMissing(call<{server: HServer}>('get-server', id, 'GET', `/servers/${id}`).then(b => b.server)),
    createServer: (body: CreateServerBody) =>
      call<{server: HServer; action: HAction; next_actions: HAction[]}>('create-server', body.name, 'POST', '/servers', {}, body),
    deleteServer: (id: string) =>
      orMissing(call<{action?: HAction}>('delete-server', id, 'DELETE', `/servers/${id}`).then(b => b.action)),
    listSnapshots: (labelSelector?: string) =>
      all<HImage>('list-snapshots', labelSelector ?? 'all', '/images', 'images', {type: 'snapshot', label_selector: labelSelector}),
    getImage: (id: number) =>
      orMissing(call<{image: HImage}>('get-image', String(id), 'GET', `/images/${id}`).then(b => b.image)),
    createSnapshot: (serverId: string, description: string, labels: Record<string, string>) =>
      call<{image: HImage; action: HAction}>('create-snapshot', description, 'POST', `/servers/${serverId}/actions/create_image`, {},
        {type: 'snapshot', description, labels}),
    deleteImage: (id: string) => orMissing(call<void>('delete-snapshot', id, 'DELETE', `/images/${id}`)),
    findSshKey: (fingerprint: string) =>
      all<HSshKey>('list-ssh-keys', fingerprint, '/ssh_keys', 'ssh_keys', {fingerprint}).then(keys => keys[0]),
    createSshKey: (name: string, publicKey: string) =>
      call<{ssh_key: HSshKey}>('create-ssh-key', name, 'POST', '/ssh_keys', {}, {name, public_key: publicKey}).then(b => b.ssh_key),
    getPricing: () => call<{pricing: HPricing}>('get-pricing', 'all', 'GET', '/pricing').then(b => b.pricing),
  }
}
