import {ProviderError} from '../../errors.js'
import type {Secret} from '../../secret.js'
import {createOnce, isUncertain, pollUntil} from '../../transport/http.js'
import {capabilitiesOf, machineStatus} from '../types.js'
import type {CostOps, MachineOps, MachineSpec, Provider, ProviderDeps, SnapshotOps, SshKeyOps, TargetRef, TargetState} from '../types.js'
import {digitalOceanApi} from './api.js'
import type {DDroplet, DSize} from './map.js'
import {labelsToTags, sameKey, toMachine, toSnapshot} from './map.js'

export interface DigitalOceanOptions {
  /** The provider's name in fleet.yaml; errors start with it. */
  name: string
  token: Secret
  /** Defaults to https://api.digitalocean.com (without /v2); tests aim it at a fake. */
  endpoint?: string
  /** How long droplets may take to become active, or a snapshot to complete. */
  actionTimeoutMs?: number
}

/** POST /v2/droplets takes at most 10 names per call. */
const MAX_NAMES = 10
// Snapshot storage is billed at $0.06 per GB-month (digitalocean.com/pricing/droplets#snapshots); the API has no price for it.
const SNAPSHOT_USD_PER_GB_MONTH = 0.06

export function createDigitalOcean(opts: DigitalOceanOptions, deps: ProviderDeps = {}): Provider {
  const api = digitalOceanApi({provider: opts.name, endpoint: opts.endpoint ?? 'https://api.digitalocean.com', token: opts.token, deps,
    actionTimeoutMs: opts.actionTimeoutMs})
  const timeoutMs = opts.actionTimeoutMs ?? 20 * 60_000
  const hasTags = (d: {tags?: string[] | null}, tags: string[]) => tags.every(t => d.tags?.includes(t))
  const find = async (idOrName: string) =>
    /^\d+$/.test(idOrName) ? api.getDroplet(idOrName) : (await api.listDroplets()).find(d => d.name === idOrName)

  async function settle(d: DDroplet): Promise<DDroplet> {
    const s = await pollUntil(() => api.getDroplet(String(d.id)), s => !s || s.status !== 'new', {
      clock: deps.clock, signal: deps.signal, timeoutMs,
      onTimeout: () => new ProviderError({provider: opts.name, operation: 'create-droplets', target: d.name, code: 'PROVIDER_TIMEOUT',
        detail: `droplet ${d.id} is still new`, hint: 'check the droplet in the DigitalOcean console, then re-run'}),
    })
    if (!s) throw new ProviderError({provider: opts.name, operation: 'create-droplets', target: d.name, code: 'PROVIDER_NOT_FOUND',
      detail: `droplet ${d.id} disappeared while starting`, hint: 'run "fleet status" and re-run'})
    return s
  }

  /** The droplets that carry a spec's tags, by name: one paginated sweep per tag set. */
  async function existing(specs: MachineSpec[]): Promise<Map<string, DDroplet>> {
    const byName = new Map<string, DDroplet>()
    for (const first of new Set(specs.map(s => labelsToTags(s.labels)[0]))) {
      for (const d of await api.listDroplets(first)) byName.set(d.name, d)
    }
    return byName
  }

  async function createChunk(chunk: MachineSpec[]): Promise<DDroplet[]> {
    const s = chunk[0]
    try {
      return await api.createDroplets({names: chunk.map(c => c.name), size: s.type, region: s.region,
        image: /^\d+$/.test(s.image) ? Number(s.image) : s.image, ssh_keys: s.sshKeys.map(k => (/^\d+$/.test(k) ? Number(k) : k)),
        tags: labelsToTags(s.labels), user_data: s.userData})
    } catch (error) {
      if (!isUncertain(error)) throw error
      const found = await existing(chunk)
      if (chunk.some(c => !found.has(c.name))) throw error
      return chunk.map(c => found.get(c.name)!)
    }
  }

  const machines: MachineOps = {
    async list(filter) {
      const tags = labelsToTags(filter.labels)
      return (await api.listDroplets(tags[0])).filter(d => hasTags(d, tags)).map(toMachine)
    },
    async get(idOrName) {
      const d = await find(idOrName)
      return d && toMachine(d)
    },
    async create(specs) {
      const unique = [...new Map(specs.map(s => [s.name, s])).values()]
      const byName = await existing(unique)
      const groups = new Map<string, MachineSpec[]>()
      for (const s of unique.filter(s => !byName.has(s.name))) {
        const key = JSON.stringify([s.type, s.region, s.image, s.sshKeys, s.labels, s.userData])
        groups.set(key, [...(groups.get(key) ?? []), s])
      }
      for (const group of groups.values()) {
        for (let i = 0; i < group.length; i += MAX_NAMES) {
          for (const d of await createChunk(group.slice(i, i + MAX_NAMES))) byName.set(d.name, d)
        }
      }
      return Promise.all(unique.map(async s => toMachine(await settle(byName.get(s.name)!))))
    },
    async delete(idOrName) {
      const id = /^\d+$/.test(idOrName) ? idOrName : (await find(idOrName))?.id
      if (id !== undefined) await api.deleteDroplet(String(id))
    },
    async remainingQuota() {
      const [limit, used] = await Promise.all([api.dropletLimit(), api.countDroplets()])
      return Math.max(0, limit - used)
    },
  }

  const snapshots: SnapshotOps = {
    async list(filter) {
      const tags = labelsToTags(filter.labels)
      const all = await api.listSnapshots()
      return all.filter(s => hasTags(s, tags) && s.name.startsWith(filter.namePrefix ?? '')).map(toSnapshot)
    },
    async create(machineId, name, labels) {
      const lookup = async () => (await api.listDropletSnapshots(machineId)).find(s => s.name === name)
      let snap = await lookup()
      if (!snap) {
        await api.waitForAction(machineId, await api.snapshotDroplet(machineId, name), name)
        snap = await lookup()
      }
      if (!snap) throw new ProviderError({provider: opts.name, operation: 'create-snapshot', target: name, code: 'PROVIDER_ACTION_FAILED',
        detail: `the snapshot action completed but droplet ${machineId} has no snapshot named ${name}`, hint: 're-run to take it again'})
      const tags = labelsToTags(labels)
      await api.tagSnapshot(String(snap.id), tags)
      return toSnapshot({...snap, tags})
    },
    async delete(id) {
      await api.deleteSnapshot(id)
    },
  }

  const sshKeys: SshKeyOps = {
    async ensure(name, publicKey) {
      const lookup = async () => (await api.listSshKeys()).find(k => sameKey(k.public_key, publicKey))
      return String((await createOnce(lookup, () => api.createSshKey(name, publicKey))).id)
    },
  }

  let sizes: Promise<DSize[]> | undefined
  const cost: CostOps = {
    async monthly(type) {
      sizes ??= api.listSizes().catch(e => {
        sizes = undefined
        throw e
      })
      // Droplet prices are the same in every region.
      const size = (await sizes).find(s => s.slug === type)
      return size && {monthly: size.price_monthly, hourly: size.price_hourly, currency: 'USD'}
    },
    snapshotMonthly: async sizeGb => sizeGb * SNAPSHOT_USD_PER_GB_MONTH,
  }

  async function status(target: TargetRef): Promise<TargetState> {
    const d = await find(target.id ?? target.name)
    return machineStatus(target, d && toMachine(d))
  }

  const provider = {name: opts.name, type: 'digitalocean' as const, status, machines, snapshots, sshKeys, cost}
  return {...provider, capabilities: capabilitiesOf(provider)}
}
