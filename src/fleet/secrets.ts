import {randomInt} from 'node:crypto'
import {Secret} from '../secret.js'
import type {InstanceSpec} from './schema.js'

export type SecretSpec = NonNullable<InstanceSpec['secrets']>[string]

const DEFAULT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

export function generateSecret(name: string, spec: SecretSpec): Secret {
  const alphabet = spec.alphabet ?? DEFAULT_ALPHABET
  const length = spec.length ?? 32
  let v = ''
  for (let i = 0; i < length; i++) v += alphabet[randomInt(alphabet.length)]
  return new Secret(v, name)
}

/** The instance env file: `KEY='value'` lines that `sh` sources with `set -a`. */
export function formatEnvFile(values: Map<string, Secret>): Buffer {
  const lines = [...values].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}='${v.reveal().replaceAll("'", `'\\''`)}'`)
  return Buffer.from(lines.join('\n') + (lines.length ? '\n' : ''))
}

export function parseEnvFile(text: string): Map<string, Secret> {
  const out = new Map<string, Secret>()
  for (const m of text.matchAll(/^([A-Z_][A-Z0-9_]*)='((?:[^']|'\\'')*)'$/gm)) out.set(m[1], new Secret(m[2].replaceAll(`'\\''`, "'"), m[1]))
  return out
}

/** The environment of an `apply` command: the new and old values by fixed names, delivered on stdin, never argv. */
export function applyEnv(name: string, next: Secret, prev: Secret | undefined): Map<string, Secret> {
  const env = new Map([['FLEET_SECRET_NAME', new Secret(name)], ['FLEET_SECRET_NEW', next]])
  if (prev) env.set('FLEET_SECRET_OLD', prev)
  return env
}
