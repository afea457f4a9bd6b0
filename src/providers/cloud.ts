import type {CloudDeps} from '../fleet/cloud.js'
import {fleetId, fleetPath} from '../fleet/cloud.js'
import {renderSshConfig, type Inventory} from '../fleet/inventory.js'
import type {Fleet} from '../fleet/load.js'
import type {Secret} from '../secret.js'
import {readPublicKey} from '../state/credentials.js'
import {loadInventory, readInventory, writeInventory} from '../state/inventory.js'
import {readTemplate} from '../state/templates.js'
import {systemClock} from '../transport/http.js'
import {cloudTokenEnv} from './kinds.js'
import {createProvider} from './registry.js'
import type {Provider, ProviderDeps} from './types.js'

export interface CloudOptions {
  /** Resolves a provider's token; the base command does it, so adapters never read the environment. */
  token(provider: string): Promise<Secret>
  signal?: AbortSignal
  log?: (line: string) => void
  clock?: ProviderDeps['clock']
}

/** The edge the cloud plans run against: providers by name, the inventory files, templates, the ssh banner probe. */
export async function openCloud(fleet: Fleet, opts: CloudOptions): Promise<CloudDeps> {
  const id = fleetId(fleet, (await loadInventory(fleet.stateDir))?.fleet)
  const clock = opts.clock ?? systemClock
  const providers = new Map<string, Promise<Provider | undefined>>()
  let writing: Promise<unknown> = Promise.resolve()
  const knownHosts = fleet.spec.ssh?.known_hosts ? fleetPath(fleet, fleet.spec.ssh.known_hosts) : undefined
  const forgeAlias = fleet.spec.forge ? (fleet.spec.forge.alias ?? fleet.spec.forge.name) : undefined
  const save = async (inv: Inventory) => {
    inv.fleet = id
    inv.updatedAt = new Date(clock.now()).toISOString()
    await writeInventory(fleet.stateDir, inv, renderSshConfig(inv, {forgeAlias, knownHosts}))
    return inv
  }
  return {
    fleetId: id,
    provider(name) {
      let p = providers.get(name)
      if (!p) {
        const spec = fleet.spec.providers[name]
        p = spec ? build(name, spec) : Promise.resolve(undefined)
        providers.set(name, p)
      }
      return p
    },
    publicKey: () => readPublicKey(fleet),
    template: (file, override) => readTemplate(fleet, file, override),
    async waitForSsh(target, host, port, timeoutMs) {
      const {waitForSshBanner} = await import('../transport/banner.js')
      await waitForSshBanner(target, host, port, {timeoutMs, signal: opts.signal})
    },
    readInventory: () => readInventory(fleet.stateDir, id),
    updateInventory(change) {
      const next = writing.then(async () => {
        const inv = await readInventory(fleet.stateDir, id)
        change(inv)
        return save(inv)
      })
      writing = next.catch(() => undefined)
      return next
    },
    now: () => clock.now(),
    sleep: ms => clock.sleep(ms, opts.signal),
  }

  async function build(name: string, spec: Fleet['spec']['providers'][string]): Promise<Provider | undefined> {
    if (!cloudTokenEnv(spec.type)) return undefined
    return createProvider(name, spec, await opts.token(name), {signal: opts.signal, log: opts.log, clock: opts.clock})
  }
}
