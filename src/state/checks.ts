import {readdir, stat} from 'node:fs/promises'
import path from 'node:path'
import {fleetId, fleetPath} from '../fleet/cloud.js'
import {checkInventory} from '../fleet/inventory.js'
import type {Fleet} from '../fleet/load.js'
import {publicKeyPath, readPublicKey, resolveProviderToken} from './credentials.js'
import {inventoryFile, loadInventory} from './inventory.js'
import {vaultDir} from './vault.js'

export interface Check {
  check: string
  ok: boolean
  detail: string
}

/**
 * What a pool needs before it can run, checked without a network call: the token is there (and the vault is private),
 * the ssh keys exist, and the inventory agrees with fleet.yaml.
 */
export async function poolChecks(fleet: Fleet, pools: string[], env: Record<string, string | undefined>): Promise<Check[]> {
  const checks: Check[] = [{check: 'fleet file', ok: true, detail: `${path.basename(fleet.file)} is valid`}]
  const add = async (check: string, fn: () => Promise<string>) => {
    try {
      checks.push({check, ok: true, detail: await fn()})
    } catch (error) {
      const hint = (error as {suggestions?: string[]}).suggestions?.[0]
      checks.push({check, ok: false, detail: `${(error as Error).message}${hint ? ` (${hint})` : ''}`})
    }
  }
  const providers = [...new Set(pools.map(p => fleet.spec.pools![p].provider))]
  for (const name of providers) await add(`token of ${name}`, async () => `found (${(await resolveProviderToken(fleet, name, env)).name})`)
  await add('vault permissions', () => vaultModes(vaultDir(fleet.dir, fleet.stateDir, fleet.spec.vault)))
  await add('ssh public key', async () => `${publicKeyPath(fleet)}: ${(await readPublicKey(fleet)).split(/\s+/)[0]}`)
  for (const pool of pools) {
    const identity = fleet.spec.pools![pool].identity
    if (identity) await add(`ssh identity of ${pool}`, () => privateKey(fleetPath(fleet, identity)))
  }
  const known = fleet.spec.ssh?.known_hosts
  if (known) await add('known_hosts', async () => ((await stat(fleetPath(fleet, known))).isFile() ? fleetPath(fleet, known) : Promise.reject(new Error(`${known} is not a file`))))
  await add('inventory', async () => {
    const inv = await loadInventory(fleet.stateDir)
    if (!inv) return `none yet (${inventoryFile(fleet.stateDir)} is written by the first dist:up)`
    const problems = checkInventory(inv, fleet, fleetId(fleet, inv.fleet))
    if (problems.length) throw new Error(problems.join('; '))
    return `${inv.machines.length} machine(s), consistent with ${path.basename(fleet.file)}`
  })
  return checks
}

async function vaultModes(dir: string): Promise<string> {
  const names = await readdir(dir).catch(() => undefined)
  if (!names) return `no vault (${dir})`
  const open: string[] = []
  for (const n of names) {
    const mode = (await stat(path.join(dir, n))).mode & 0o777
    if (mode !== 0o600) open.push(`${n} has mode ${mode.toString(8).padStart(4, '0')}`)
  }
  if (open.length) throw Object.assign(new Error(`vault files must have mode 0600: ${open.join(', ')}`), {suggestions: [`chmod 600 ${dir}/*`]})
  return `${names.length} file(s) in ${dir}, all 0600`
}

async function privateKey(file: string): Promise<string> {
  const s = await stat(file).catch(() => undefined)
  if (!s?.isFile()) throw new Error(`${file} does not exist`)
  if (s.mode & 0o077) throw Object.assign(new Error(`${file} is readable by others (mode ${(s.mode & 0o777).toString(8)})`), {suggestions: [`chmod 600 ${file}`]})
  return file
}
