import {appendFile, mkdir, readFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import ssh2, {type AuthMethod, type ParsedKey, type ServerHostKeyAlgorithm} from 'ssh2'
import {TransportError} from '../errors.js'
import {checkHostKey, fingerprint, formatKnownHostsLine, keyTypeOf, knownHostName, knownKeyTypes, parseKnownHosts, type KnownHostLine} from './known-hosts.js'

// ssh2 is CommonJS: Node's ESM loader gives it only a default export.
const {utils} = ssh2

export type HostKeyPolicy = 'strict' | 'accept-new'
type Peer = {name: string; host: string; port: number}
export interface Credentials {
  methods: AuthMethod[]
  tried: string[]
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa']
const HOST_KEY_ALGOS: ServerHostKeyAlgorithm[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']

export class HostKeys {
  private readonly known: KnownHostLine[]
  private endsWithNewline: boolean
  private nextLine: number
  private appending: Promise<unknown> = Promise.resolve()

  constructor(readonly file: string, private readonly policy: HostKeyPolicy, text: string | undefined) {
    const lines = text ? text.split('\n').length - (text.endsWith('\n') ? 1 : 0) : 0
    this.known = parseKnownHosts(text ?? '')
    this.endsWithNewline = !text || text.endsWith('\n')
    this.nextLine = lines + 1
  }

  /** Ask for a key type already in known_hosts first, so a host with several keys is checked against the one on record. */
  algorithms(host: string, port: number): ServerHostKeyAlgorithm[] | undefined {
    const types = knownKeyTypes(this.known, host, port)
    const first = HOST_KEY_ALGOS.filter((a) => types.includes(a.startsWith('rsa-sha2-') ? 'ssh-rsa' : a))
    return first.length > 0 ? [...first, ...HOST_KEY_ALGOS.filter((a) => !first.includes(a))] : undefined
  }

  verifier(ep: Peer, rejected: (error: TransportError) => void): (key: Buffer, verify: (ok: boolean) => void) => boolean | undefined {
    return (key, verify) => {
      const verdict = this.check(ep, key)
      if (verdict instanceof TransportError) {
        rejected(verdict)
        return false
      }
      if (verdict === true) return true
      verdict.then(() => verify(true), (error: unknown) => {
        rejected(new TransportError(ep.name, `cannot record the host key in ${this.file}`, 'SSH_HOSTKEY', 'check that the file is writable', error))
        verify(false)
      })
      return undefined
    }
  }

  private check(ep: Peer, key: Buffer): true | TransportError | Promise<void> {
    const verdict = checkHostKey(this.known, ep.host, ep.port, key)
    const name = knownHostName(ep.host, ep.port)
    const fp = `${keyTypeOf(key)} ${fingerprint(key)}`
    if (verdict.status === 'known') return true
    if (verdict.status === 'revoked') {
      return new TransportError(ep.name, `host key for ${name} (${fp}) is revoked in ${this.file}:${verdict.entry.line}`, 'SSH_HOSTKEY', 'do not connect; find out why the key was revoked')
    }
    if (verdict.status === 'changed') {
      const old = fingerprint(verdict.entry.key)
      return new TransportError(
        ep.name,
        `host key for ${name} has changed: the host offers ${fp}, but ${this.file}:${verdict.entry.line} has ${old}`,
        'SSH_HOSTKEY',
        `if the host was reinstalled, remove the old key with \`ssh-keygen -R '${name}' -f ${this.file}\`; otherwise someone may be intercepting the connection`,
      )
    }
    if (this.policy === 'strict') {
      return new TransportError(
        ep.name,
        `host key for ${name} is not known (${fp})`,
        'SSH_HOSTKEY',
        `check the fingerprint, then run \`ssh-keyscan -p ${ep.port} ${ep.host} >> ${this.file}\`, or pass accept-new`,
      )
    }
    return this.remember(ep.host, ep.port, key)
  }

  private remember(host: string, port: number, key: Buffer): Promise<void> {
    const line = formatKnownHostsLine(host, port, key)
    this.known.push(...parseKnownHosts(line).map((e) => ({...e, line: this.nextLine})))
    this.nextLine++
    const prefix = this.endsWithNewline ? '' : '\n'
    this.endsWithNewline = true
    const write = this.appending.then(async () => {
      await mkdir(dirname(this.file), {recursive: true, mode: 0o700})
      await appendFile(this.file, `${prefix}${line}\n`, {mode: 0o600})
    })
    this.appending = write.catch(() => undefined)
    return write
  }
}

export class Identities {
  private readonly keys = new Map<string, Promise<ParsedKey | string>>()

  constructor(private readonly home: string) {}

  async credentials(ep: {user: string; identityFiles: string[]; agent?: string}): Promise<Credentials> {
    const explicit = ep.identityFiles.length > 0
    const files = explicit ? ep.identityFiles : DEFAULT_IDENTITIES.map((f) => join(this.home, '.ssh', f))
    const loaded = await Promise.all(files.map((f) => this.load(f)))
    const methods: AuthMethod[] = []
    const tried: string[] = []
    const addKeys = () => loaded.forEach((key, i) => {
      if (typeof key === 'string') {
        if (explicit || key !== 'missing') tried.push(`${files[i]} (${key})`)
        return
      }
      methods.push({type: 'publickey', username: ep.user, key} as AuthMethod)
      tried.push(files[i])
    })
    if (explicit) addKeys()
    if (ep.agent) {
      methods.push({type: 'agent', username: ep.user, agent: ep.agent} as AuthMethod)
      tried.push('ssh-agent')
    }
    if (!explicit) addKeys()
    return {methods, tried}
  }

  private load(file: string): Promise<ParsedKey | string> {
    let key = this.keys.get(file)
    if (!key) {
      key = readFile(file).then(
        (buf) => {
          const parsed = utils.parseKey(buf)
          if (parsed instanceof Error) return /encrypted|passphrase/i.test(parsed.message) ? 'encrypted; load it into ssh-agent' : 'unreadable key'
          return Array.isArray(parsed) ? parsed[0] : parsed
        },
        (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? 'missing' : (error.code ?? 'unreadable')),
      )
      this.keys.set(file, key)
    }
    return key
  }
}
