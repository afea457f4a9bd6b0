import {ProviderError} from '../../errors.js'
import type {Secret} from '../../secret.js'
import {createOnce, pollUntil} from '../../transport/http.js'
import {capabilitiesOf, machineStatus} from '../types.js'
import type {CostOps, Machine, MachineOps, MachineSpec, Provider, ProviderDeps, SnapshotOps, SshKeyOps, TargetRef, TargetState} from '../types.js'
import {hetznerApi} from './api.js'
import type {HAction, HPricing, HServer} from './map.js'
import {hasLabels, labelSelector, md5Fingerprint, serverTypePrice, toMachine, toSnapshot} from './map.js'

export interface HetznerOptions {
  /** The provider's name in fleet.yaml; errors start with it. */
  name: string
  token: Secret
  /** Defaults to https://api.hetzner.cloud/v1; tests aim it at a fake. */
  endpoint?: string
  /** How long one server create or snapshot may take. */
  actionTimeoutMs?: number
}

const SETTLING = new Set(['initializing', 'starting', 'rebuilding', 'migrating'])

export function createHetzner(opts: HetznerOptions, deps: ProviderDeps = {}): Provider {
  const api = hetznerApi({provider: opts.name, endpoint: opts.endpoint ?? 'https://api.hetzner.cloud/v1', token: opts.token, deps,
    actionTimeoutMs: opts.actionTimeoutMs})
  const timeoutMs = opts.actionTimeoutMs ?? 20 * 60_000

  const findByName = async (name: string) => (await api.listServers({name})).find(s => s.name === name)
  const find = (idOrName: string) => (/^\d+$/.test(idOrName) ? api.getServer(idOrName) : findByName(idOrName))

  async function settle(server: HServer): Promise<HServer> {
    const s = await pollUntil(() => api.getServer(String(server.id)), s => !s || !SETTLING.has(s.status), {
      clock: deps.clock, signal: deps.signal, timeoutMs,
      onTimeout: () => new ProviderError({provider: opts.name, operation: 'create-server', target: server.name, code: 'PROVIDER_TIMEOUT',
        detail: `server ${server.id} is still ${server.status}`, hint: 'check the server in the Hetzner console, then re-run'}),
    })
    if (!s) throw new ProviderError({provider: opts.name, operation: 'create-server', target: server.name, code: 'PROVIDER_NOT_FOUND',
      detail: `server ${server.id} disappeared while starting`, hint: 'run "fleet status" and re-run'})
    return s
  }

  async function createOne(spec: MachineSpec): Promise<Machine> {
    let actions: HAction[] = []
    const server = await createOnce(() => findByName(spec.name), async () => {
      const res = await api.createServer({name: spec.name, server_type: spec.type, location: spec.region, image: spec.image,
        ssh_keys: spec.sshKeys, labels: spec.labels, user_data: spec.userData, start_after_create: true})
      actions = [res.action, ...res.next_actions]
      return res.server
    })
    for (const a of actions) await api.waitForAction(a, spec.name)
    return toMachine(await settle(server))
  }

  const machines: MachineOps = {
    async list(filter) {
      const servers = await api.listServers({labelSelector: labelSelector(filter.labels)})
      return servers.filter(s => hasLabels(s.labels, filter.labels)).map(toMachine)
    },
    async get(idOrName) {
      const s = await find(idOrName)
      return s && toMachine(s)
    },
    async create(specs) {
      const unique = [...new Map(specs.map(s => [s.name, s])).values()]
      return Promise.all(unique.map(createOne))
    },
    async delete(idOrName) {
      const id = /^\d+$/.test(idOrName) ? idOrName : (await findByName(idOrName))?.id
      const action = id === undefined ? undefined : await api.deleteServer(String(id))
      if (action) await api.waitForAction(action, idOrName)
    },
  }

  const snapshots: SnapshotOps = {
    async list(filter) {
      const images = await api.listSnapshots(labelSelector(filter.labels))
      return images.filter(i => hasLabels(i.labels, filter.labels) && i.description.startsWith(filter.namePrefix ?? '')).map(toSnapshot)
    },
    async create(machineId, name, labels) {
      let action: HAction | undefined
      const lookup = async () => (await api.listSnapshots(labelSelector(labels))).find(i => i.description === name)
      const image = await createOnce(lookup, async () => {
        const res = await api.createSnapshot(machineId, name, labels)
        action = res.action
        return res.image
      })
      if (action) await api.waitForAction(action, name)
      const done = await pollUntil(() => api.getImage(image.id), i => !i || i.status !== 'creating', {
        clock: deps.clock, signal: deps.signal, timeoutMs,
        onTimeout: () => new ProviderError({provider: opts.name, operation: 'create-snapshot', target: name, code: 'PROVIDER_TIMEOUT',
          detail: `snapshot ${image.id} is still being created`, hint: 'check the image in the Hetzner console, then re-run'}),
      })
      if (!done || done.status !== 'available') throw new ProviderError({provider: opts.name, operation: 'create-snapshot', target: name,
        code: 'PROVIDER_ACTION_FAILED', detail: `snapshot ${image.id} is ${done?.status ?? 'gone'}`, hint: 're-run to take the snapshot again'})
      return toSnapshot(done)
    },
    async delete(id) {
      await api.deleteImage(id)
    },
  }

  const sshKeys: SshKeyOps = {
    async ensure(name, publicKey) {
      const fingerprint = md5Fingerprint(publicKey)
      const key = await createOnce(() => api.findSshKey(fingerprint), () => api.createSshKey(name, publicKey))
      return String(key.id)
    },
  }

  let pricing: Promise<HPricing> | undefined
  const prices = () => (pricing ??= api.getPricing().catch(e => {
    pricing = undefined
    throw e
  }))
  const cost: CostOps = {
    monthly: async (type, region) => serverTypePrice(await prices(), type, region),
    snapshotMonthly: async sizeGb => Number((await prices()).image.price_per_gb_month.gross) * sizeGb,
  }

  async function status(target: TargetRef): Promise<TargetState> {
    const s = await find(target.id ?? target.name)
    return machineStatus(target, s && toMachine(s))
  }

  const provider = {name: opts.name, type: 'hetzner' as const, status, machines, snapshots, sshKeys, cost}
  return {...provider, capabilities: capabilitiesOf(provider)}
}
