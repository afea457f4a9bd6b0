import {modules} from 'dots-wrapper'
import {ProviderError} from '../../errors.js'
import type {Secret} from '../../secret.js'
import {axiosAdapter, isNotFound, pollUntil, relabel, systemClock} from '../../transport/http.js'
import type {ProviderDeps} from '../types.js'
import type {DAction, DDroplet, DSize, DSnapshot} from './map.js'
import {nextPage} from './map.js'

export interface CreateDropletsBody {
  names: string[]
  size: string
  region: string
  image: string | number
  ssh_keys: (string | number)[]
  tags: string[]
  user_data?: string
}

export interface DigitalOceanApiOptions {
  provider: string
  endpoint: string
  token: Secret
  deps: ProviderDeps
  actionTimeoutMs?: number
}

type Listing = {links?: {pages?: {next?: string}}; meta?: {total?: number}}

export type DigitalOceanApi = ReturnType<typeof digitalOceanApi>

/** The DigitalOcean endpoints fleet uses, through dots-wrapper; its axios sends through transport/http. */
export function digitalOceanApi(o: DigitalOceanApiOptions) {
  const clock = o.deps.clock ?? systemClock
  const adapter = axiosAdapter({provider: o.provider, tokenEnv: 'DIGITALOCEAN_TOKEN', clock, signal: o.deps.signal, log: o.deps.log})
  // dots-wrapper builds its axios instance in createContext and takes no instance or interceptors, but it exposes
  // the factory with an injectable createContext: swapping the adapter there keeps one retry policy for all HTTP.
  const createContext: typeof modules.common.createContext = input => {
    const ctx = modules.common.createContext(input)
    ctx.httpClient.defaults.adapter = adapter
    return ctx
  }
  const client = modules.common.createApiClient({modules, createContext})({
    token: o.token.reveal(), endpoint: `${o.endpoint.replace(/\/+$/, '')}/v2`, requestTimeoutInMs: 30_000,
  })

  async function run<T>(operation: string, target: string, send: () => Promise<{data: unknown}>): Promise<T> {
    try {
      return (await send()).data as T
    } catch (error) {
      throw relabel(error, operation, target)
    }
  }

  const orMissing = <T>(p: Promise<T>): Promise<T | undefined> => p.catch(e => (isNotFound(e) ? undefined : Promise.reject(e)))

  async function all<T>(operation: string, target: string, key: string, send: (page: number) => Promise<{data: unknown}>): Promise<T[]> {
    const out: T[] = []
    for (let page: number | undefined = 1; page; ) {
      const current: number = page
      const body = await run<Listing & Record<string, T[] | undefined>>(operation, target, () => send(current))
      out.push(...(body[key] ?? []))
      page = nextPage(body.links, current)
    }
    return out
  }

  async function waitForAction(dropletId: string, action: DAction, target: string): Promise<DAction> {
    const read = () => run<{action: DAction}>('get-action', target, () =>
      client.droplet.getDropletAction({droplet_id: Number(dropletId), action_id: action.id})).then(b => b.action)
    const done = await pollUntil(read, a => a.status !== 'in-progress', {
      clock, signal: o.deps.signal, timeoutMs: o.actionTimeoutMs ?? 20 * 60_000,
      onTimeout: () => new ProviderError({provider: o.provider, operation: action.type, target, code: 'PROVIDER_TIMEOUT',
        detail: `action ${action.id} still in progress`, hint: 'check the droplet in the DigitalOcean console, then re-run'}),
    })
    if (done.status === 'errored') {
      throw new ProviderError({provider: o.provider, operation: done.type, target, code: 'PROVIDER_ACTION_FAILED',
        detail: `action ${done.id} errored`, hint: 'see the droplet history in the DigitalOcean console; re-running retries it'})
    }
    return done
  }

  return {
    waitForAction,
    listDroplets: (tag?: string) => all<DDroplet>('list-droplets', tag ?? 'all', 'droplets', page =>
      client.droplet.listDroplets({tag_name: tag, page, per_page: 200})),
    countDroplets: () => run<Listing>('count-droplets', 'all', () => client.droplet.listDroplets({page: 1, per_page: 1}))
      .then(b => b.meta?.total ?? 0),
    getDroplet: (id: string) => orMissing(run<{droplet: DDroplet}>('get-droplet', id, () =>
      client.droplet.getDroplet({droplet_id: Number(id)})).then(b => b.droplet)),
    createDroplets: (body: CreateDropletsBody) => run<{droplets: DDroplet[]}>('create-droplets', body.names.join(','), () =>
      client.droplet.createDroplets(body)).then(b => b.droplets),
    deleteDroplet: (id: string) => orMissing(run<void>('delete-droplet', id, () => client.droplet.deleteDroplet({droplet_id: Number(id)}))),
    dropletLimit: () => run<{account: {droplet_limit: number}}>('get-account', 'account', () => client.account.getAccount())
      .then(b => b.account.droplet_limit),
    snapshotDroplet: (dropletId: string, name: string) => run<{action: DAction}>('create-snapshot', name, () =>
      client.droplet.snapshotDroplet({droplet_id: Number(dropletId), name})).then(b => b.action),
    listSnapshots: () => all<DSnapshot>('list-snapshots', 'droplet', 'snapshots', page =>
      client.snapshot.listSnapshots({resource_type: 'droplet', page, per_page: 200})),
    listDropletSnapshots: (dropletId: string) => all<DSnapshot>('list-snapshots', dropletId, 'snapshots', page =>
      client.droplet.listDropletSnapshots({droplet_id: Number(dropletId), page, per_page: 200})),
    deleteSnapshot: (id: string) => orMissing(run<void>('delete-snapshot', id, () => client.snapshot.deleteSnapshot({snapshot_id: id}))),
    async tagSnapshot(id: string, tags: string[]) {
      for (const tag of tags) {
        await run('create-tag', tag, () => client.tag.createTag({name: tag}))
        await run('tag-snapshot', tag, () => client.tag.tagResources({tag_name: tag, resources: [{resource_id: id, resource_type: 'image'}]}))
      }
    },
    listSshKeys: () => all<{id: number; public_key: string}>('list-ssh-keys', 'all', 'ssh_keys', page =>
      client.sshKey.listSshKeys({page, per_page: 200})),
    createSshKey: (name: string, publicKey: string) => run<{ssh_key: {id: number; public_key: string}}>('create-ssh-key', name, () =>
      client.sshKey.createSshKey({name, public_key: publicKey})).then(b => b.ssh_key),
    listSizes: () => all<DSize>('list-sizes', 'all', 'sizes', page => client.size.listSizes({page, per_page: 200})),
  }
}
