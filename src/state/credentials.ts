import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import path from 'node:path'
import {UsageError} from '../errors.js'
import type {Fleet} from '../fleet/load.js'
import {fleetPath} from '../fleet/cloud.js'
import {cloudTokenEnv} from '../providers/kinds.js'
import {Secret} from '../secret.js'
import {readVaultSecret, vaultDir} from './vault.js'

/**
 * A cloud provider's API token: its `token:` reference when declared (`${env:X}` or `vault:NAME`), else the provider
 * type's usual environment variables. `env` is the command's environment; adapters never see it.
 */
export async function resolveProviderToken(fleet: Fleet, provider: string, env: Record<string, string | undefined>): Promise<Secret> {
  const spec = fleet.spec.providers[provider]
  const names = cloudTokenEnv(spec.type) ?? []
  const ref = spec.token
  if (ref?.startsWith('vault:')) return readVaultSecret(vaultDir(fleet.dir, fleet.stateDir, fleet.spec.vault), ref.slice('vault:'.length))
  const declared = ref ? /^\$\{env:(.+)\}$/.exec(ref)?.[1] : undefined
  const candidates = declared ? [declared] : names
  const found = candidates.find(n => env[n])
  if (found) return new Secret(env[found]!, found)
  const which = candidates.join(' or ')
  throw new UsageError(`provider ${provider} (${spec.type}) needs an API token: ${which} is not set`,
    `export ${candidates[0]}=..., or declare providers.${provider}.token: vault:NAME (a file in the vault with mode 0600)`)
}

/** The public key fleet puts on machines it creates: ssh.public_key, or ~/.ssh/id_ed25519.pub. */
export function publicKeyPath(fleet: Fleet, home = homedir()): string {
  return fleetPath(fleet, fleet.spec.ssh?.public_key ?? '~/.ssh/id_ed25519.pub', home)
}

export async function readPublicKey(fleet: Fleet, home = homedir()): Promise<string> {
  const file = publicKeyPath(fleet, home)
  const text = await readFile(file, 'utf8').catch(() => undefined)
  const hint = `run ssh-keygen -t ed25519, or set ssh.public_key in ${path.basename(fleet.file)} to a .pub file`
  if (text === undefined) throw new UsageError(`no ssh public key at ${file}`, hint)
  const line = text.split('\n').map(l => l.trim()).find(l => l && !l.startsWith('#'))
  if (!line || !isPublicKey(line)) throw new UsageError(`${file} is not an OpenSSH public key (expected a line like "ssh-ed25519 AAAA... comment")`, hint)
  return line
}

export function isPublicKey(line: string): boolean {
  return /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/]+=*( .*)?$/.test(line)
}
