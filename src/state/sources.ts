import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {UsageError} from '../errors.js'
import type {Fleet} from '../fleet/load.js'
import type {ReleaseSource} from '../providers/runtime.js'
import {Secret} from '../secret.js'
import {readCachedSpec, specKey, writeCachedSpec} from './spec-cache.js'
import {readVaultSecret, vaultDir} from './vault.js'

/**
 * The fleet file, validated (or taken from the spec cache when its bytes validated before), with the addresses of
 * provisioned hosts that declare none, from the inventory.
 */
export async function openFleet(file: string): Promise<Fleet> {
  const abs = path.resolve(file)
  const dir = path.dirname(abs)
  const stateDir = path.join(dir, '.local', 'fleet')
  const text = await readFile(abs, 'utf8').catch(() => undefined)
  const key = text === undefined ? undefined : specKey(text)
  let fleet: Fleet | undefined
  const cached = key ? await readCachedSpec(stateDir, key) : undefined
  if (cached) fleet = {file: abs, dir, stateDir, spec: cached}
  else {
    const {loadFleet} = await import('../fleet/load.js')
    fleet = await loadFleet(abs, file)
    if (key) await writeCachedSpec(stateDir, key, fleet.spec)
  }
  if (Object.values(fleet.spec.hosts).some(h => !h.address)) fleet.machines = await provisionedHosts(stateDir)
  return fleet
}

async function provisionedHosts(stateDir: string): Promise<Fleet['machines']> {
  const {loadInventory} = await import('./inventory.js')
  const inv = await loadInventory(stateDir).catch(() => undefined)
  const hosts = (inv?.machines ?? []).filter(m => m.role === 'host' && m.address)
  return Object.fromEntries(hosts.map(m => [m.name, {address: m.address!, port: m.port, user: m.user, identity: m.identity}]))
}

/** Each instance's release: its version (declared, or a hash of the source) and the archive, packed once on demand. */
export async function releaseSources(fleet: Fleet, instances: string[]): Promise<Record<string, ReleaseSource>> {
  const {hashSource, packSource} = await import('../transport/archive.js')
  // Instances that deploy the same directory share one hash and one archive.
  const hashes = new Map<string, Promise<string>>()
  const packs = new Map<string, Promise<Buffer>>()
  const entries = await Promise.all(instances.map(async name => {
    const r = fleet.spec.instances[name].release
    const dir = path.resolve(fleet.dir, r.source)
    let version: string
    try {
      version = r.version ?? await getOr(hashes, dir, () => hashSource(dir))
    } catch {
      throw new UsageError(`instances.${name}.release.source: ${r.source} cannot be read`, `create ${dir}, or point release.source at the directory to deploy`)
    }
    const install = typeof r.install === 'string' ? ['sh', '-c', r.install] : r.install
    return [name, {version, install, keep: r.keep, archive: () => getOr(packs, dir, () => packSource(dir))}] as const
  }))
  return Object.fromEntries(entries)
}

function getOr<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let value = cache.get(key)
  if (!value) cache.set(key, (value = make()))
  return value
}

/**
 * Secret values from vault files (mode 0600 or refused) and environment variables, by instance. A value that is not
 * set is left out, because the plan decides whether it was needed; `strict` makes a missing value an error at once.
 * A vault file with the wrong mode is always refused.
 */
export async function resolveSecrets(fleet: Fleet, instances: string[], env: NodeJS.ProcessEnv, opts: {only?: string[]; strict?: boolean} = {}): Promise<Record<string, Map<string, Secret>>> {
  const dir = vaultDir(fleet.dir, fleet.stateDir, fleet.spec.vault)
  const out: Record<string, Map<string, Secret>> = {}
  for (const instance of instances) {
    out[instance] = new Map()
    for (const [name, spec] of Object.entries(fleet.spec.instances[instance].secrets ?? {})) {
      if (spec.source === 'generate' || (opts.only?.length && !opts.only.includes(name))) continue
      const key = spec.name ?? name
      if (spec.source === 'vault') {
        const value = opts.strict ? await readVaultSecret(dir, key) : await readVaultSecret(dir, key, {missingOk: true})
        if (value) out[instance].set(name, value)
      } else if (env[key] !== undefined) out[instance].set(name, new Secret(env[key]!, name))
      else if (opts.strict) throw new UsageError(`secret ${name} of ${instance} comes from the environment variable ${key}, which is not set`, `export ${key}=... (or change its source)`)
    }
  }
  return out
}
