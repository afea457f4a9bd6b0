import {readFile, stat} from 'node:fs/promises'
import path from 'node:path'
import {UsageError} from '../errors.js'
import {Secret} from '../secret.js'

/** Reads one secret from the vault directory; a file others can read is refused, not used. */
export async function readVaultSecret(vaultDir: string, name: string, opts: {missingOk: true}): Promise<Secret | undefined>
export async function readVaultSecret(vaultDir: string, name: string, opts?: {missingOk?: false}): Promise<Secret>
export async function readVaultSecret(vaultDir: string, name: string, opts: {missingOk?: boolean} = {}): Promise<Secret | undefined> {
  const file = path.join(vaultDir, name)
  let mode: number
  try {
    mode = (await stat(file)).mode & 0o777
  } catch {
    if (opts.missingOk) return undefined
    throw new UsageError(`vault secret "${name}" not found (${file})`, `write it with: install -m 600 /dev/stdin ${file}`)
  }
  if (mode !== 0o600) throw new UsageError(`vault file ${file} has mode ${mode.toString(8).padStart(4, '0')}; it must be 0600`, `run: chmod 600 ${file}`)
  return new Secret((await readFile(file, 'utf8')).replace(/\r?\n$/, ''), name)
}

export function vaultDir(fleetDir: string, stateDir: string, configured?: string): string {
  return configured ? path.resolve(fleetDir, configured) : path.join(stateDir, 'vault')
}
