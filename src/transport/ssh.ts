import {readFile} from 'node:fs/promises'
import {connect as tcpConnect} from 'node:net'
import {homedir, userInfo} from 'node:os'
import {join} from 'node:path'
import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import {TransportError} from '../errors.js'
import {HostKeys, Identities, type Credentials, type HostKeyPolicy} from './ssh-auth.js'
import {expandPath, parseJumpSpec, parseSshConfig, resolveSshConfig, type SshConfigBlock} from './ssh-config.js'
import {closedError, connectError, seconds, type LoginStage, type SshError} from './ssh-errors.js'
import {runCommand} from './ssh-exec.js'
import type {ExecOptions, ExecResult, Transport} from './types.js'

export {remoteCommand, shellQuote} from './shell-quote.js'

// ssh2 is CommonJS: Node's ESM loader gives it only a default export.
const {Client} = ssh2
type Client = InstanceType<typeof ssh2.Client>

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
  hostKeyPolicy?: HostKeyPolicy
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
  hostKeys: HostKeys
}

const MAX_JUMPS = 8

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
  private readonly policy: HostKeyPolicy
  private readonly agentSocket?: string
  private readonly connectTimeoutMs: number
  private readonly keepaliveMs: number
  private readonly maxSessions: number
  readonly commandTimeoutMs?: number
  private readonly startups: Limiter
  private readonly conns = new Map<string, Conn>()
  private readonly identities: Identities
  private files?: Promise<Files>

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
    this.identities = new Identities(this.home)
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
      return {config: parseSshConfig(config ?? ''), hostKeys: new HostKeys(this.knownHostsFile, this.policy, known)}
    })()
    return this.files.catch((error: NodeJS.ErrnoException) => {
      throw new TransportError(target, `cannot read ssh settings (${error.code ?? error.message})`, 'SSH_CONFIG', `check the permissions of ${this.configFile} and ${this.knownHostsFile}`, error)
    })
  }

  private async open(ep: Endpoint, conn: Conn): Promise<Client> {
    const files = await this.loadFiles(ep.name)
    const methods = await this.identities.credentials(ep)
    const sock = ep.via ? await this.forward(ep) : undefined
    return this.startups.run(() => {
      if (conn.abandoned) {
        sock?.destroy()
        throw closedError(ep.name)
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

  private handshake(ep: Endpoint, conn: Conn, files: Files, auth: Credentials, tunnel?: Duplex): Promise<Client> {
    return new Promise((resolve, reject) => {
      const client = new Client()
      const sock: Duplex = tunnel ?? tcpConnect({host: ep.host, port: ep.port, noDelay: true})
      conn.sock = sock
      let stage: LoginStage = tunnel ? 'banner' : 'tcp'
      let hostKeyError: TransportError | undefined
      let settled = false
      const fail = (err: SshError) => {
        if (settled) return
        settled = true
        sock.destroy()
        reject(hostKeyError ?? (conn.abandoned ? closedError(ep.name, err) : connectError(ep, err, stage, auth.tried, this.connectTimeoutMs)))
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
      const hostKeyAlgos = files.hostKeys.algorithms(ep.host, ep.port)
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
        hostVerifier: files.hostKeys.verifier(ep, (error) => {
          hostKeyError = error
        }),
      })
    })
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
    return conn.sessions.run(() => runCommand(client, this.target, argv, opts, started, this.pool.commandTimeoutMs))
  }

  async close(): Promise<void> {
    if (this.ep) await this.pool.endTarget(this.ep)
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

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}
