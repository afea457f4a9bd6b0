import {describe, expect, it} from 'vitest'
import {checkHostKey, fingerprint, formatKnownHostsLine, keyTypeOf, knownHostName, knownKeyTypes, parseKnownHosts} from '../../../src/transport/known-hosts.js'

// keys and hashed lines made with ssh-keygen (-t ed25519/ecdsa, -lf, -H), so the expectations are OpenSSH's own
const K1 = 'AAAAC3NzaC1lZDI1NTE5AAAAIGnVYLsgcQVjjcKoSaUWgPFZrwu1KXJ8bUIS8PFeBaZd'
const K2 = 'AAAAC3NzaC1lZDI1NTE5AAAAIIZWB0ROPr6pnd7FvQ93JTYE81tcE2uZSLGtziaC/FmJ'
const K3 = 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBK78Q27h+ZWVmCgRKeBWixsQIzI09wn/D7UNNfUcxkFbvWAfuOcFzz8/ViesvkpDlXgV2liWmgZTLyeQCJ75a/8='
const key = (b64: string) => Buffer.from(b64, 'base64')
const HASHED_10_0_0_5_2222 = `|1|U6P4CJ84ywRdf/6JWufwss52WLY=|gdwY5q3xUTMACSAYVfLh5niPXMU= ssh-ed25519 ${K1}`
const HASHED_WEB = `|1|1rYz7eqCkHhdAnP4tAYQgkbbYvs=|BgliMbeNXxU1rQ6ls5OJ8pCRMOs= ssh-ed25519 ${K1}`

describe('fingerprint', () => {
  it('matches ssh-keygen -lf', () => {
    expect(fingerprint(key(K1))).toBe('SHA256:VYJNa3U+yIXtBwPBDMZc6ontFuaCnhOtsu9zlfrVsn4')
    expect(fingerprint(key(K2))).toBe('SHA256:DzWgbZ6D1O2RG9kfVInIZhym4LHu2wwdH/9SIRl/9+w')
    expect(fingerprint(key(K3))).toBe('SHA256:ot0uNSdfmVsOxeYzkYDfjIaeD5X2iKfug7nBk32k0B8')
  })
})

describe('parseKnownHosts', () => {
  it('skips comments, blank and malformed lines and keeps line numbers', () => {
    const entries = parseKnownHosts(`# comment\n\nweb,10.0.0.1 ssh-ed25519 ${K1} a comment\nbroken-line\n@revoked * ssh-ed25519 ${K2}\n`)
    expect(entries.map((e) => [e.line, e.marker, e.patterns, e.keyType])).toEqual([
      [3, undefined, ['web', '10.0.0.1'], 'ssh-ed25519'],
      [5, 'revoked', ['*'], 'ssh-ed25519'],
    ])
    expect(entries[0].key.equals(key(K1))).toBe(true)
  })
})

describe('knownHostName', () => {
  it('uses the bare name on port 22 and [host]:port elsewhere', () => {
    expect(knownHostName('Web.Example.com', 22)).toBe('web.example.com')
    expect(knownHostName('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222')
  })
})

describe('checkHostKey', () => {
  it('accepts a plain [host]:port entry only for that port', () => {
    const entries = parseKnownHosts(`[10.0.0.5]:2222 ssh-ed25519 ${K1}\n`)
    expect(checkHostKey(entries, '10.0.0.5', 2222, key(K1)).status).toBe('known')
    expect(checkHostKey(entries, '10.0.0.5', 22, key(K1)).status).toBe('unknown')
    expect(checkHostKey(entries, '10.0.0.5', 2223, key(K1)).status).toBe('unknown')
  })

  it('matches hashed entries written by ssh-keygen -H', () => {
    const entries = parseKnownHosts(`${HASHED_10_0_0_5_2222}\n${HASHED_WEB}\n`)
    expect(checkHostKey(entries, '10.0.0.5', 2222, key(K1))).toMatchObject({status: 'known', entry: {line: 1}})
    expect(checkHostKey(entries, 'web.example.com', 22, key(K1))).toMatchObject({status: 'known', entry: {line: 2}})
    expect(checkHostKey(entries, 'WEB.example.com', 22, key(K1)).status).toBe('known')
    expect(checkHostKey(entries, 'web.example.org', 22, key(K1)).status).toBe('unknown')
  })

  it('reports a changed key of the same type with the line on record', () => {
    const entries = parseKnownHosts(`other ssh-ed25519 ${K2}\n${HASHED_WEB}\n`)
    const verdict = checkHostKey(entries, 'web.example.com', 22, key(K2))
    expect(verdict).toMatchObject({status: 'changed', entry: {line: 2}})
  })

  it('treats a key of another type as unknown, not changed', () => {
    const entries = parseKnownHosts(`web ecdsa-sha2-nistp256 ${K3}\n`)
    expect(checkHostKey(entries, 'web', 22, key(K1)).status).toBe('unknown')
    expect(knownKeyTypes(entries, 'web', 22)).toEqual(['ecdsa-sha2-nistp256'])
  })

  it('refuses a revoked key even when another line accepts it', () => {
    const entries = parseKnownHosts(`web ssh-ed25519 ${K1}\n@revoked * ssh-ed25519 ${K1}\n`)
    expect(checkHostKey(entries, 'web', 22, key(K1))).toMatchObject({status: 'revoked', entry: {line: 2}})
  })

  it('honours wildcards and negation in host patterns', () => {
    const entries = parseKnownHosts(`*.example.com,!db.example.com ssh-ed25519 ${K1}\n`)
    expect(checkHostKey(entries, 'web.example.com', 22, key(K1)).status).toBe('known')
    expect(checkHostKey(entries, 'db.example.com', 22, key(K1)).status).toBe('unknown')
  })

  it('ignores @cert-authority lines', () => {
    const entries = parseKnownHosts(`@cert-authority * ssh-ed25519 ${K1}\n`)
    expect(checkHostKey(entries, 'web', 22, key(K1)).status).toBe('unknown')
  })
})

describe('formatKnownHostsLine', () => {
  it('writes a line that parses back to the same key', () => {
    const line = formatKnownHostsLine('127.0.0.3', 2200, key(K3))
    expect(line).toBe(`[127.0.0.3]:2200 ecdsa-sha2-nistp256 ${K3}`)
    expect(checkHostKey(parseKnownHosts(line), '127.0.0.3', 2200, key(K3)).status).toBe('known')
    expect(keyTypeOf(key(K1))).toBe('ssh-ed25519')
  })
})
