import {appendFile, mkdir, readFile} from 'node:fs/promises'
import {connect as tcpConnect} from 'node:net'
import {homedir, constants as osConstants, userInfo} from 'node:os'
import {dirname, join} from 'node:path'
import type {Duplex} from 'node:stream'
import ssh2, {type AuthMethod, type ClientChannel, type ParsedKey, type ServerHostKeyAlgorithm} from 'ssh2'

// ssh2 is CommonJS: Node's ESM loader gives it only a default export.
const {Client, utils} = ssh2
type Client = InstanceType<typeof ssh2.Client>
import {TransportError} from '../errors.js'
import {checkHostKey, fingerprint, formatKnownHostsLine, keyTypeOf, knownHostName, knownKeyTypes, parseKnownHosts, type KnownHostLine} from './known-hosts.js'
import {expandPath, parseJumpSpec, parseSshConfig, resolveSshConfig, type SshConfigBlock} from './ssh-config.js'
import type {ExecOptions, ExecResult, Transport} from './types.js'

export interface SshTarget {
  name: string
  host: string
  port?: number
  user?: string
  identityFile?: string
  /** "user@host:port" or an ssh config alias; comma-separated hops are allowed. */
  proxyJump?: string
}

export interface SshOptions {
  knownHostsFile?: string
  hostKeyPolicy?: 'strict' | 'accept-new'
  configFile?: string
  connectTimeoutMs?: number
  commandTimeoutMs?: number
  keepaliveMs?: number
  /** Defaults to SSH_AUTH_SOCK as seen when the pool is built; '' disables the agent. */
  agentSocket?: string
  /** Concurrent connection handshakes (sshd's MaxStartups drops the excess). */
  maxStartups?: number
  /** Concurrent commands per connection (sshd's MaxSessions refuses the excess). */
  maxSessions?: number
  home?: string
  localUser?: string
}

interface Endpoint {
  key: string
  name: string
  host: string
  port: number
  user: string
  identityFiles: string[]
  agent?: string
  via?: Endpoint
}

interface Conn {
  ready: Promise<Client>
  sessions: Limiter
  client?: Client
  sock?: Duplex
  closed?: boolean
  /** closeAll ran while this connection was still logging in. */
  abandoned?: boolean
}

interface Files {
  config: SshConfigBlock[]
  known: KnownHostLine[]
  knownEndsWithNewline: boolean
  knownNextLine: number
}

type SshError = Error & {code?: string; level?: string}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa']
const HOST_KEY_ALGOS: ServerHostKeyAlgorithm[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']
const MAX_JUMPS = 8

export function shellQuote(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ')
}

function quoteArg(arg: string): string {
  return /^[\w@%+:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`
}

function quoteDir(dir: string): string {
  if (dir === '~') return '~'
  return dir.startsWith('~/') ? `~/${quoteArg(dir.slice(2))}` : quoteArg(dir)
}

export function remoteCommand(argv: readonly string[], cwd?: string): string {
  const command = shellQuote(argv)
  return cwd ? `cd ${quoteDir(cwd)} && ${command}` : command
}

class Limiter {
  private active = 0
  private readonly waiting: Array<() => void> = []
  constructor(private readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++
    else await new Promise<void>((resolve) => this.waiting.push(resolve))
    try {
      return await fn()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.active--
    }
  }
}

export class SshPool {
  private readonly home: string
  private readonly localUser: string
  private readonly knownHostsFile: string
  private readonly configFile: string
  private readonly policy: 'strict' | 'accept-new'
  private readonly agentSocket?: string
  private readonly connectTimeoutMs: number
  private readonly keepaliveMs: number
  private readonly maxSessions: number
  readonly commandTimeoutMs?: number
  private readonly startups: Limiter
  private readonly conns = new Map<string, Conn>()
  private readonly keys = new Map<string, Promise<ParsedKey | string>>()
  private files?: Promise<Files>
  private appending: Promise<unknown> = Promise.resolve()

  constructor(opts: SshOptions = {}) {
    this.home = opts.home ?? homedir()
    this.localUser = opts.localUser ?? userInfo().username
    this.knownHostsFile = opts.knownHostsFile ?? join(this.home, '.ssh', 'known_hosts')
    this.configFile = opts.configFile ?? join(this.home, '.ssh', 'config')
    this.policy = opts.hostKeyPolicy ?? 'strict'
    this.agentSocket = (opts.agentSocket ?? process.env.SSH_AUTH_SOCK) || undefined
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000
    this.keepaliveMs = opts.keepaliveMs ?? 15_000
    this.maxSessions = opts.maxSessions ?? 10
    this.commandTimeoutMs = opts.commandTimeoutMs
    this.startups = new Limiter(opts.maxStartups ?? 10)
  }

  get(target: SshTarget): Transport {
    return new SshTransport(this, target)
  }

  async closeAll(): Promise<void> {
    const conns = [...this.conns.values()]
    this.conns.clear()
    for (const c of conns) {
      c.abandoned = true
      // a login still in progress (a hung sshd) would otherwise hold closeAll for the whole connect timeout
      if (!c.client) c.sock?.destroy()
    }
    await Promise.all(conns.map((c) => c.ready.then(() => endConn(c), () => undefined)))
  }

  /** @internal */
  async endpointFor(target: SshTarget): Promise<Endpoint> {
    const {config} = await this.loadFiles(target.name)
    return this.resolve(config, target.name, target.host, target, 0)
  }

  /** @internal */
  connection(ep: Endpoint): Conn {
    let conn = this.conns.get(ep.key)
    if (!conn) {
      const c: Conn = {ready: undefined as unknown as Promise<Client>, sessions: new Limiter(this.maxSessions)}
      c.ready = this.open(ep, c)
      c.ready.catch(() => this.forget(ep.key, c))
      this.conns.set(ep.key, c)
      conn = c
    }
    return conn
  }

  /** @internal */
  async endTarget(ep: Endpoint): Promise<void> {
    const conn = this.conns.get(ep.key)
    if (!conn) return
    this.conns.delete(ep.key)
    await conn.ready.then(() => endConn(conn), () => undefined)
  }

  private forget(key: string, conn: Conn): void {
    if (this.conns.get(key) === conn) this.conns.delete(key)
  }

  private resolve(config: SshConfigBlock[], name: string, alias: string, over: Omit<SshTarget, 'name' | 'host'>, depth: number): Endpoint {
    if (depth > MAX_JUMPS) {
      throw new TransportError(name, `ProxyJump chain is longer than ${MAX_JUMPS} hops (a loop in ssh config?)`, 'SSH_CONFIG', `check the ProxyJump lines in ${this.configFile}`)
    }
    const cfg = resolveSshConfig(config, alias, {home: this.home, localUser: this.localUser})
    const user = over.user ?? cfg.user ?? this.localUser
    const identityFiles = over.identityFile ? [expandPath(over.identityFile, {home: this.home}), ...cfg.identityFiles] : cfg.identityFiles
    const ep: Endpoint = {
      key: '',
      name,
      host: cfg.host,
      port: over.port ?? cfg.port ?? 22,
      user,
      identityFiles,
      agent: cfg.identityAgent === 'none' ? undefined : (cfg.identityAgent ?? this.agentSocket),
    }
    const jump = over.proxyJump ?? cfg.proxyJump
    if (jump && jump.toLowerCase() !== 'none') {
      let hops
      try {
        hops = parseJumpSpec(jump)
      } catch (error) {
        throw new TransportError(name, (error as Error).message, 'SSH_CONFIG', 'write ProxyJump as user@host:port or an ssh config alias')
      }
      const last = hops.pop()!
      const earlier = hops.map((h) => `${h.user ? `${h.user}@` : ''}${h.host}${h.port ? `:${h.port}` : ''}`).join(',')
      ep.via = this.resolve(config, last.host, last.host, {user: last.user, port: last.port, proxyJump: earlier || undefined}, depth + 1)
    }
    ep.key = `${ep.user}@${ep.host}:${ep.port}${ep.via ? ` via ${ep.via.key}` : ''}`
    return ep
  }

  private loadFiles(target: string): Promise<Files> {
    this.files ??= (async () => {
      const [config, known] = await Promise.all([readOptional(this.configFile), readOptional(this.knownHostsFile)])
      const lines = known ? known.split('\n').length - (known.endsWith('\n') ? 1 : 0) : 0
      return {config: parseSshConfig(config ?? ''), known: parseKnownHosts(known ?? ''), knownEndsWithNewline: !known || known.endsWith('\n'), knownNextLine: lines + 1}
    })()
    return this.files.catch((error: NodeJS.ErrnoException) => {
      throw new TransportError(target, `cannot read ssh settings (${error.code ?? error.message})`, 'SSH_CONFIG', `check the permissions of ${this.configFile} and ${this.knownHostsFile}`, error)
    })
  }

  private async open(ep: Endpoint, conn: Conn): Promise<Client> {
    const files = await this.loadFiles(ep.name)
    const methods = await this.credentials(ep)
    const sock = ep.via ? await this.forward(ep) : undefined
    return this.startups.run(() => {
      if (conn.abandoned) {
        sock?.destroy()
        throw closedError(ep)
      }
      return this.handshake(ep, conn, files, methods, sock)
    })
  }

  private async forward(ep: Endpoint): Promise<Duplex> {
    const via = ep.via!
    let jump: Client
    try {
      jump = await this.connection(via).ready
    } catch (error) {
      if (!(error instanceof TransportError)) throw error
      throw new TransportError(ep.name, `via jump host ${via.name}: ${error.detail}`, String(error.code), String(error.suggestions?.[0] ?? ''), error)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new TransportError(ep.name, `jump host ${via.name} did not open a tunnel to ${ep.host}:${ep.port} within ${seconds(this.connectTimeoutMs)}`, 'SSH_TIMEOUT', 'check that the target is reachable from the jump host'))
      }, this.connectTimeoutMs)
      const failed = (err: Error) => {
        clearTimeout(timer)
        reject(new TransportError(ep.name, `jump host ${via.name} could not reach ${ep.host}:${ep.port} (${err.message})`, 'SSH_CONNECT', 'check the address from the jump host, and that its sshd allows TCP forwarding', err))
      }
      try {
        jump.forwardOut('127.0.0.1', 0, ep.host, ep.port, (err, stream) => {
          if (err) return failed(err)
          clearTimeout(timer)
          resolve(stream)
        })
      } catch (error) {
        failed(error as Error)
      }
    })
  }

  private async credentials(ep: Endpoint): Promise<{methods: AuthMethod[]; tried: string[]}> {
    const explicit = ep.identityFiles.length > 0
    const files = explicit ? ep.identityFiles : DEFAULT_IDENTITIES.map((f) => join(this.home, '.ssh', f))
    const loaded = await Promise.all(files.map((f) => this.loadKey(f)))
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

  private loadKey(file: string): Promise<ParsedKey | string> {
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

  private handshake(ep: Endpoint, conn: Conn, files: Files, auth: {methods: AuthMethod[]; tried: string[]}, tunnel?: Duplex): Promise<Client> {
    return new Promise((resolve, reject) => {
      const client = new Client()
      const sock: Duplex = tunnel ?? tcpConnect({host: ep.host, port: ep.port, noDelay: true})
      conn.sock = sock
      let stage: 'tcp' | 'banner' | 'auth' = tunnel ? 'banner' : 'tcp'
      let hostKeyError: TransportError | undefined
      let settled = false
      const fail = (err: SshError) => {
        if (settled) return
        settled = true
        sock.destroy()
        reject(hostKeyError ?? (conn.abandoned ? closedError(ep, err) : this.connectError(ep, err, stage, auth.tried)))
      }
      client.on('connect', () => { stage = 'banner' })
      client.on('handshake', () => { stage = 'auth' })
      client.on('error', (err: SshError) => {
        if (err.level !== 'agent') fail(err)
      })
      client.on('close', () => {
        conn.closed = true
        if (!settled) fail(Object.assign(new Error('connection closed during login'), {level: 'protocol'}))
        else this.forget(ep.key, conn)
      })
      client.once('ready', () => {
        if (conn.abandoned) return fail(new Error('closed by closeAll'))
        settled = true
        conn.client = client
        resolve(client)
      })
      const hostKeyAlgos = preferKnownTypes(knownKeyTypes(files.known, ep.host, ep.port))
      client.connect({
        sock,
        host: ep.host,
        port: ep.port,
        username: ep.user,
        readyTimeout: this.connectTimeoutMs,
        keepaliveInterval: this.keepaliveMs,
        keepaliveCountMax: 3,
        authHandler: auth.methods,
        algorithms: hostKeyAlgos ? {serverHostKey: hostKeyAlgos} : undefined,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          const verdict = this.verifyHostKey(ep, key, files)
          if (verdict instanceof TransportError) {
            hostKeyError = verdict
            return false
          }
          if (verdict === true) return true
          verdict.then(() => verify(true), (error: unknown) => {
            hostKeyError = new TransportError(ep.name, `cannot record the host key in ${this.knownHostsFile}`, 'SSH_HOSTKEY', 'check that the file is writable', error)
            verify(false)
          })
          return undefined
        },
      })
    })
  }

  private verifyHostKey(ep: Endpoint, key: Buffer, files: Files): true | TransportError | Promise<void> {
    const verdict = checkHostKey(files.known, ep.host, ep.port, key)
    const name = knownHostName(ep.host, ep.port)
    const fp = `${keyTypeOf(key)} ${fingerprint(key)}`
    if (verdict.status === 'known') return true
    if (verdict.status === 'revoked') {
      return new TransportError(ep.name, `host key for ${name} (${fp}) is revoked in ${this.knownHostsFile}:${verdict.entry.line}`, 'SSH_HOSTKEY', 'do not connect; find out why the key was revoked')
    }
    if (verdict.status === 'changed') {
      const old = fingerprint(verdict.entry.key)
      return new TransportError(
        ep.name,
        `host key for ${name} has changed: the host offers ${fp}, but ${this.knownHostsFile}:${verdict.entry.line} has ${old}`,
        'SSH_HOSTKEY',
        `if the host was reinstalled, remove the old key with \`ssh-keygen -R '${name}' -f ${this.knownHostsFile}\`; otherwise someone may be intercepting the connection`,
      )
    }
    if (this.policy === 'strict') {
      return new TransportError(
        ep.name,
        `host key for ${name} is not known (${fp})`,
        'SSH_HOSTKEY',
        `check the fingerprint, then run \`ssh-keyscan -p ${ep.port} ${ep.host} >> ${this.knownHostsFile}\`, or pass accept-new`,
      )
    }
    return this.remember(ep, key, files)
  }

  private remember(ep: Endpoint, key: Buffer, files: Files): Promise<void> {
    const line = formatKnownHostsLine(ep.host, ep.port, key)
    files.known.push(...parseKnownHosts(line).map((e) => ({...e, line: files.knownNextLine})))
    files.knownNextLine++
    const prefix = files.knownEndsWithNewline ? '' : '\n'
    files.knownEndsWithNewline = true
    const write = this.appending.then(async () => {
      await mkdir(dirname(this.knownHostsFile), {recursive: true, mode: 0o700})
      await appendFile(this.knownHostsFile, `${prefix}${line}\n`, {mode: 0o600})
    })
    this.appending = write.catch(() => undefined)
    return write
  }

  private connectError(ep: Endpoint, err: SshError, stage: 'tcp' | 'banner' | 'auth', tried: string[]): TransportError {
    const at = `${ep.host}:${ep.port}`
    const t = seconds(this.connectTimeoutMs)
    const e = (detail: string, code: string, hint: string) => new TransportError(ep.name, detail, code, hint, err)
    if (err.level === 'client-timeout') {
      if (stage === 'tcp') return e(`host unreachable (no TCP connection to ${at} within ${t})`, 'SSH_TIMEOUT', 'check the address, the port and any firewall in between')
      if (stage === 'banner') return e(`sshd not answering (no SSH banner within ${t})`, 'SSH_TIMEOUT', `${at} accepts connections but sshd does not respond: check that it is running and not overloaded`)
      return e(`ssh login did not finish within ${t}`, 'SSH_TIMEOUT', 'check the load on the host, or raise the connect timeout')
    }
    if (err.level === 'client-authentication') {
      const what = tried.length > 0 ? `tried ${tried.join(', ')}` : 'no ssh-agent and no identity file found'
      return e(`authentication as ${ep.user} failed (${what})`, 'SSH_AUTH', `add your public key to ~${ep.user}/.ssh/authorized_keys on the host, or set an identity file, or load the key into ssh-agent`)
    }
    switch (err.code) {
      case 'ECONNREFUSED':
        return e(`host unreachable (connection refused at ${at})`, 'SSH_CONNECT', `check that the host is up and sshd listens on port ${ep.port}`)
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EAI_FAIL':
      case 'EAI_NONAME':
        return e(`host unreachable (DNS cannot resolve "${ep.host}")`, 'SSH_CONNECT', 'check the host name in fleet.yaml or ~/.ssh/config')
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'ETIMEDOUT':
      case 'ECONNRESET':
      case 'EPIPE':
        return e(`host unreachable (${err.code} at ${at})`, 'SSH_CONNECT', 'check that the host is up and the network path to it')
    }
    if (stage !== 'auth') return e(`connection to ${at} closed before the SSH handshake finished (${err.message})`, 'SSH_CONNECT', 'check that an SSH server listens there and accepts more connections (MaxStartups)')
    return e(`ssh login to ${at} failed (${err.message})`, 'SSH_CONNECT', 'retry; if it persists, check the sshd log on the host')
  }
}

class SshTransport implements Transport {
  readonly target: string
  private ep?: Endpoint

  constructor(private readonly pool: SshPool, private readonly spec: SshTarget) {
    this.target = spec.name
  }

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const started = performance.now()
    opts.signal?.throwIfAborted()
    this.ep ??= await this.pool.endpointFor(this.spec)
    let conn = this.pool.connection(this.ep)
    let client = await conn.ready
    // the cached connection died since it was opened (host rebooted, keepalive timeout): the command never ran, so reconnect
    if (conn.closed) {
      conn = this.pool.connection(this.ep)
      client = await conn.ready
    }
    return conn.sessions.run(() => this.run(client, argv, opts, started))
  }

  async close(): Promise<void> {
    if (this.ep) await this.pool.endTarget(this.ep)
  }

  private run(client: Client, argv: readonly string[], opts: ExecOptions, started: number): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      let stdout = ''
      let stderr = ''
      let code: number | undefined
      let channel: ClientChannel | undefined
      let done = false
      let open = 2
      const finish = (error?: unknown) => {
        if (done) return
        done = true
        clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        if (error === undefined) return resolve({stdout, stderr, code: code!, durationMs: Math.round(performance.now() - started)})
        channel?.close()
        reject(error)
      }
      const timeoutMs = opts.timeoutMs ?? this.pool.commandTimeoutMs
      const timer = timeoutMs
        ? setTimeout(() => finish(new TransportError(this.target, `command timed out after ${seconds(timeoutMs)}: ${argv[0] ?? ''}`, 'SSH_TIMEOUT', 'raise the timeout, or check what the command waits for')), timeoutMs)
        : undefined
      const onAbort = () => finish(opts.signal!.reason)
      opts.signal?.addEventListener('abort', onAbort, {once: true})
      if (opts.signal?.aborted) return onAbort()
      const closed = () => {
        if (--open > 0) return
        if (code !== undefined) return finish()
        finish(new TransportError(this.target, 'connection lost while the command ran', 'SSH_DISCONNECT', 'check the host; the command may or may not have finished'))
      }
      const onChannel = (err: Error | undefined, ch: ClientChannel) => {
        if (err) return finish(new TransportError(this.target, `could not start a command (${err.message})`, 'SSH_SESSION', "check MaxSessions in the host's sshd_config, or retry", err))
        if (done) return ch.close()
        channel = ch
        ch.setEncoding('utf8')
        ch.stderr.setEncoding('utf8')
        ch.on('data', (s: string) => {
          stdout += s
          opts.onOutput?.(s, 'stdout')
        })
        ch.stderr.on('data', (s: string) => {
          stderr += s
          opts.onOutput?.(s, 'stderr')
        })
        ch.on('exit', (c: number | null, signal?: string) => {
          code = c ?? 128 + (osConstants.signals[signal as keyof typeof osConstants.signals] ?? 127)
        })
        ch.on('close', closed)
        ch.stderr.on('end', closed)
        ch.end(opts.stdin)
      }
      try {
        client.exec(remoteCommand(argv, opts.cwd), onChannel)
      } catch (error) {
        finish(new TransportError(this.target, 'connection lost before the command started', 'SSH_DISCONNECT', 'retry; the command did not run', error))
      }
    })
  }
}

async function endConn(conn: Conn): Promise<void> {
  const {client, sock} = conn
  if (!client || conn.closed) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      sock?.destroy()
      resolve()
    }, 1000)
    client.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    client.end()
  })
}

/** Ask for a key type already in known_hosts first, so a host with several keys is checked against the one on record. */
function preferKnownTypes(types: string[]): ServerHostKeyAlgorithm[] | undefined {
  const first = HOST_KEY_ALGOS.filter((a) => types.includes(a.startsWith('rsa-sha2-') ? 'ssh-rsa' : a))
  return first.length > 0 ? [...first, ...HOST_KEY_ALGOS.filter((a) => !first.includes(a))] : undefined
}

function closedError(ep: Endpoint, cause?: unknown): TransportError {
  return new TransportError(ep.name, 'connection closed before login', 'SSH_CLOSED', 'the command was shutting down; run it again', cause)
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`
}
