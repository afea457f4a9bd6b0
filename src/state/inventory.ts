import {mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {UsageError} from '../errors.js'
import {emptyInventory, parseInventory, type Inventory} from '../fleet/inventory.js'

export const inventoryFile = (stateDir: string) => path.join(stateDir, 'inventory')
export const sshConfigFile = (stateDir: string) => path.join(stateDir, 'ssh_config')

/** The raw inventory, undefined when none was written yet; a broken file is a UsageError naming it. */
export async function loadInventory(stateDir: string): Promise<Inventory | undefined> {
  const file = inventoryFile(stateDir)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new UsageError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code})`, 'check its permissions')
  }
  try {
    return parseInventory(text, file)
  } catch (error) {
    throw new UsageError((error as Error).message, `move it away; the next cloud command rebuilds it from the providers' labels`)
  }
}

export async function readInventory(stateDir: string, fleetId: string): Promise<Inventory> {
  return (await loadInventory(stateDir)) ?? emptyInventory(fleetId)
}

/** Writes the inventory and the ssh config include beside it; each replaces its file atomically. */
export async function writeInventory(stateDir: string, inv: Inventory, sshConfig: string): Promise<void> {
  await mkdir(stateDir, {recursive: true})
  await replace(inventoryFile(stateDir), JSON.stringify(inv, null, 2) + '\n')
  await replace(sshConfigFile(stateDir), sshConfig)
}

async function replace(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, text, {mode: 0o600})
  await rename(tmp, file)
}
