import {createHash, createHmac} from 'node:crypto'
import {matchPatterns} from './ssh-config.js'

export interface KnownHostLine {
  /** 1-based line number in the file. */
  line: number
  marker?: 'revoked' | 'cert-authority'
  /** Host patterns of a plain entry; empty for a hashed one. */
  patterns: string[]
  hashed?: {salt: Buffer; hash: Buffer}
  keyType: string
  key: Buffer
}

export type HostKeyVerdict =
  | {status: 'known'; entry: KnownHostLine}
  | {status: 'unknown'}
  | {status: 'changed'; entry: KnownHostLine}
  | {status: 'revoked'; entry: KnownHostLine}

export function parseKnownHosts(text: string): KnownHostLine[] {
  const out: KnownHostLine[] = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/)
    if (!fields[0] || fields[0].startsWith('#')) return
    let marker: KnownHostLine['marker']
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() === '@revoked' ? 'revoked' : 'cert-authority'
    const [hosts, keyType, b64] = fields
    if (!hosts || !keyType || !b64) return
    const key = Buffer.from(b64, 'base64')
    if (key.length === 0) return
    const hashed = /^\|1\|([^|]+)\|([^|]+)$/.exec(hosts)
    out.push({
      line: i + 1,
      marker,
      patterns: hashed ? [] : hosts.split(','),
      hashed: hashed ? {salt: Buffer.from(hashed[1], 'base64'), hash: Buffer.from(hashed[2], 'base64')} : undefined,
      keyType,
      key,
    })
  })
  return out
}

/** The name known_hosts stores for a host: bare on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port = 22): string {
  const h = host.toLowerCase()
  return port === 22 ? h : `[${h}]:${port}`
}

export function matchesHost(entry: KnownHostLine, name: string): boolean {
  if (entry.hashed) return createHmac('sha1', entry.hashed.salt).update(name).digest().equals(entry.hashed.hash)
  return matchPatterns(name, entry.patterns)
}

export function checkHostKey(entries: readonly KnownHostLine[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key))
  if (revoked) return {status: 'revoked', entry: revoked}
  const name = knownHostName(host, port)
  const type = keyTypeOf(key)
  let changed: KnownHostLine | undefined
  for (const e of entries) {
    if (e.marker || !matchesHost(e, name)) continue
    if (e.key.equals(key)) return {status: 'known', entry: e}
    if (!changed && keyTypeOf(e.key) === type) changed = e
  }
  return changed ? {status: 'changed', entry: changed} : {status: 'unknown'}
}

/** Key types already on record for a host, so the client can ask for one of those first (as OpenSSH does). */
export function knownKeyTypes(entries: readonly KnownHostLine[], host: string, port: number): string[] {
  const name = knownHostName(host, port)
  return [...new Set(entries.filter((e) => !e.marker && matchesHost(e, name)).map((e) => keyTypeOf(e.key)))]
}

/** The algorithm name embedded at the start of an SSH public key blob. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return ''
  const len = key.readUInt32BE(0)
  return len > 0 && 4 + len <= key.length ? key.subarray(4, 4 + len).toString('latin1') : ''
}

export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`
}

export function formatKnownHostsLine(host: string, port: number, key: Buffer): string {
  return `${knownHostName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}`
}
