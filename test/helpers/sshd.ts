import {spawn} from 'node:child_process'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {connect} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {execa} from 'execa'
import {afterAll, beforeAll} from 'vitest'
import type {SshTarget} from '../../src/transport/ssh.js'

const SSHD = process.env.SSHD_BIN ?? '/usr/sbin/sshd'

export type SshHostRole = 'ok' | 'dead' | 'hang'

export interface SshTestHost {
  /** host1, host2, ...: also the alias in `sshConfigFile`. */
  name: string
  address: string
  port: number
  /** HOME of every session on this host. */
  home: string
  dir: string
  logFile: string
  role: SshHostRole
}

export interface SshTestbedOptions {
  count: number
  /** Fixed port for every host; default a free random one in 20000-40000. */
  basePort?: number
  /** Default: a fresh temp dir, removed by stop(). */
  dir?: string
  /** 1-based host numbers, as in the names. */
  faults?: {dead?: number[]; hang?: number[]}
}

export interface SshTestbed {
  dir: string
  user: string
  hosts: SshTestHost[]
  clientKey: string
  knownHostsFile: string
  sshConfigFile: string
  /** An SshTarget that reaches host n directly with the client key. */
  target(n: number): SshTarget
  /** The SSH public key blob host n presents. */
  hostKey(n: number): Buffer
  /** A new host key for host n, restarted; known_hosts keeps the old one. */
  replaceHostKey(n: number): Promise<Buffer>
  /** Open connections to host n's sshd (its child processes). */
  connections(n: number): number
  /** Successful logins recorded in host n's sshd log. */
  logins(n: number): Promise<number>
  stop(): Promise<void>
}

export async function startSshHosts(opts: SshTestbedOptions): Promise<SshTestbed> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing; install openssh-server`)
  // sshd refuses to start without its privilege-separation dir, normally made by the service unit
  if (process.getuid?.() === 0) await mkdir('/run/sshd', {recursive: true, mode: 0o755})
  if (opts.count < 1 || opts.count > 250) throw new Error('count must be 1..250 (one 127.0.0.x address per host)')
  const ownDir = !opts.dir
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'fleet-sshd-')))
  const user = userInfo().username
  const clientKey = join(dir, 'client', 'id_ed25519')
  await mkdir(join(dir, 'client'), {recursive: true, mode: 0o700})
  await keygen(clientKey, 'fleet-test-client')
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`), {mode: 0o600})
  const extra = (await supportsPerSourcePenalties(dir)) ? 'PerSourcePenalties no\n' : ''

  const dead = new Set(opts.faults?.dead ?? [])
  const hang = new Set(opts.faults?.hang ?? [])
  const hosts: SshTestHost[] = []
  for (let n = 1; n <= opts.count; n++) {
    const hostDir = join(dir, `host${n}`)
    const home = join(hostDir, 'home')
    await mkdir(home, {recursive: true})
    // Debian's bash sources ~/.bashrc for ssh commands; an empty one keeps each command fast and predictable
    await writeFile(join(home, '.bashrc'), '')
    await keygen(join(hostDir, 'ssh_host_ed25519_key'), `host${n}`)
    const role: SshHostRole = dead.has(n) ? 'dead' : hang.has(n) ? 'hang' : 'ok'
    hosts.push({name: `host${n}`, address: `127.0.0.${n + 1}`, port: 0, home, dir: hostDir, logFile: join(hostDir, 'sshd.log'), role})
  }

  const writeConfig = (h: SshTestHost, n: number) =>
    writeFile(join(h.dir, 'sshd_config'), sshdConfig(n, h, dir, extra))
  for (let attempt = 1; ; attempt++) {
    const port = opts.basePort ?? 20_000 + Math.floor(Math.random() * 20_000)
    hosts.forEach((h) => (h.port = port))
    await Promise.all(hosts.map((h, i) => writeConfig(h, i + 1)))
    const started = await Promise.all(hosts.map((h) => (h.role === 'dead' ? true : startSshd(h))))
    const deadFree = await Promise.all(hosts.filter((h) => h.role === 'dead').map((h) => refuses(h.address, port)))
    if (started.every(Boolean) && deadFree.every(Boolean)) break
    await stopSshHostsIn(dir)
    if (opts.basePort || attempt >= 5) {
      const log = await readFile(join(hosts[0].dir, 'sshd.log'), 'utf8').catch(() => '')
      if (ownDir) await rm(dir, {recursive: true, force: true})
      throw new Error(`could not start sshd on port ${port}: ${log.trim().split('\n').at(-1) ?? 'no log'}`)
    }
  }
  for (const h of hosts) if (h.role === 'hang') process.kill(pidOf(h)!, 'SIGSTOP')

  const knownHostsFile = join(dir, 'known_hosts')
  const hostKey = (n: number) => {
    const [, b64] = readFileSync(join(hosts[n - 1].dir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ')
    return Buffer.from(b64, 'base64')
  }
  await writeFile(knownHostsFile, hosts.map((h, i) => `[${h.address}]:${h.port} ssh-ed25519 ${hostKey(i + 1).toString('base64')}\n`).join(''))
  const sshConfigFile = join(dir, 'ssh_config')
  await writeFile(sshConfigFile, [
    ...hosts.map((h) => `Host ${h.name}\n  HostName ${h.address}\n  Port ${h.port}\n`),
    `Host *\n  User ${user}\n  IdentityFile ${clientKey}\n  IdentitiesOnly yes\n  IdentityAgent none\n  UserKnownHostsFile ${knownHostsFile}\n  StrictHostKeyChecking yes\n  BatchMode yes\n`,
  ].join(''))

  const safety = () => killNow(dir)
  process.once('exit', safety)
  return {
    dir,
    user,
    hosts,
    clientKey,
    knownHostsFile,
    sshConfigFile,
    target: (n) => ({name: hosts[n - 1].name, host: hosts[n - 1].address, port: hosts[n - 1].port, user, identityFile: clientKey}),
    hostKey,
    async replaceHostKey(n) {
      const h = hosts[n - 1]
      await stopPids(livePids([h]))
      await rm(join(h.dir, 'ssh_host_ed25519_key'), {force: true})
      await rm(join(h.dir, 'ssh_host_ed25519_key.pub'), {force: true})
      await keygen(join(h.dir, 'ssh_host_ed25519_key'), h.name)
      if (h.role !== 'dead' && !(await startSshd(h))) throw new Error(`${h.name}: sshd did not restart; see ${h.logFile}`)
      if (h.role === 'hang') process.kill(pidOf(h)!, 'SIGSTOP')
      return hostKey(n)
    },
    connections(n) {
      const pid = pidOf(hosts[n - 1])
      return pid ? childrenOf([pid]).length : 0
    },
    async logins(n) {
      const log = await readFile(hosts[n - 1].logFile, 'utf8').catch(() => '')
      return log.match(/Accepted publickey/g)?.length ?? 0
    },
    async stop() {
      process.removeListener('exit', safety)
      await stopSshHostsIn(dir)
      if (ownDir) await rm(dir, {recursive: true, force: true})
    },
  }
}

/** Registers beforeAll/afterAll for one testbed per test file; call the returned function inside tests. */
export function useSshHosts(opts: SshTestbedOptions): () => SshTestbed {
  let testbed: SshTestbed | undefined
  beforeAll(async () => {
    testbed = await startSshHosts(opts)
  })
  afterAll(async () => {
    await testbed?.stop()
  })
  return () => {
    if (!testbed) throw new Error('the ssh testbed is not running (beforeAll failed?)')
    return testbed
  }
}

/**
 * Stops exactly the sshd processes a testbed in `dir` started (pid files checked against /proc), their sessions, and
 * commands those sessions left behind (found by the per-host HOME in their environment).
 */
export async function stopSshHostsIn(dir: string): Promise<void> {
  await stopPids(livePids(hostDirs(dir)), leftovers(dir))
}

function leftovers(dir: string): number[] {
  const marker = `\0HOME=${join(dir, 'host')}`
  return allPids().filter((pid) => {
    try {
      return `\0${readFileSync(`/proc/${pid}/environ`, 'latin1')}`.includes(marker)
    } catch {
      return false
    }
  })
}

function allPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number)
}

function hostDirs(dir: string): Array<Pick<SshTestHost, 'dir'>> {
  if (!existsSync(dir)) return []
  return readdirSync(dir).filter((d) => /^host\d+$/.test(d)).map((d) => ({dir: join(dir, d)}))
}

function sshdConfig(n: number, h: SshTestHost, dir: string, extra: string): string {
  return `ListenAddress ${h.address}:${h.port}
HostKey ${h.dir}/ssh_host_ed25519_key
PidFile ${h.dir}/sshd.pid
AuthorizedKeysFile ${dir}/authorized_keys
StrictModes no
PubkeyAuthentication yes
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding yes
MaxStartups 100:30:200
MaxSessions 20
LoginGraceTime 30
SetEnv TESTBED_HOST=host${n} HOME=${h.home}
${extra}`
}

async function keygen(file: string, comment: string): Promise<void> {
  if (existsSync(file)) return
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file])
}

let penaltiesProbe: Promise<boolean> | undefined
// OpenSSH >= 9.8 penalises a source address with many failed connections, and every client here is 127.0.0.1
function supportsPerSourcePenalties(dir: string): Promise<boolean> {
  penaltiesProbe ??= (async () => {
    const probe = join(dir, 'probe_config')
    const key = join(dir, 'probe_host_key')
    await keygen(key, 'probe')
    await writeFile(probe, `HostKey ${key}\nListenAddress 127.0.0.1:1\n`)
    const {exitCode} = await execa(SSHD, ['-t', '-f', probe, '-o', 'PerSourcePenalties=no'], {reject: false})
    await Promise.all([probe, key, `${key}.pub`].map((f) => rm(f, {force: true})))
    return exitCode === 0
  })()
  return penaltiesProbe
}

async function startSshd(h: SshTestHost): Promise<boolean> {
  const pidFile = join(h.dir, 'sshd.pid')
  await rm(pidFile, {force: true})
  // -D keeps sshd in the foreground so an early exit (port taken) is seen at once
  const child = spawn(SSHD, ['-D', '-f', join(h.dir, 'sshd_config'), '-E', h.logFile], {stdio: 'ignore', detached: true})
  child.unref()
  let exited = false
  child.once('exit', () => (exited = true))
  child.once('error', () => (exited = true))
  for (let i = 0; i < 250 && !exited; i++) {
    // sshd writes its pid file after it has bound the port
    if (pidOf(h) === child.pid) return true
    await sleep(20)
  }
  if (!exited) child.kill('SIGKILL')
  return false
}

function refuses(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({host: address, port})
    sock.once('connect', () => (sock.destroy(), resolve(false)))
    sock.once('error', () => resolve(true))
  })
}

/** The live sshd of a host dir, from its pid file, only if /proc says that pid runs this host's config. */
function pidOf(h: Pick<SshTestHost, 'dir'>): number | undefined {
  try {
    const pid = Number(readFileSync(join(h.dir, 'sshd.pid'), 'utf8').trim())
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return cmdline.includes(join(h.dir, 'sshd_config')) && procState(pid) !== 'Z' ? pid : undefined
  } catch {
    return undefined
  }
}

function livePids(hosts: Array<Pick<SshTestHost, 'dir'>>): number[] {
  return hosts.map(pidOf).filter((p): p is number => p !== undefined)
}

function procStat(pid: number): {state: string; ppid: number} | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return {state, ppid: Number(ppid)}
  } catch {
    return undefined
  }
}

function procState(pid: number): string | undefined {
  return procStat(pid)?.state
}

function childrenOf(pids: number[]): number[] {
  const parents = new Set(pids)
  return allPids().filter((p) => {
    const s = procStat(p)
    return s !== undefined && s.state !== 'Z' && parents.has(s.ppid)
  })
}

function descendantsOf(pids: number[]): number[] {
  const out: number[] = []
  for (let level = childrenOf(pids); level.length > 0; level = childrenOf(level)) out.push(...level)
  return out
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig)
    } catch {}
  }
}

async function stopPids(pids: number[], extra: number[] = []): Promise<void> {
  const all = [...new Set([...pids, ...descendantsOf(pids), ...extra])].filter((p) => p !== process.pid)
  if (all.length === 0) return
  signal(all, 'SIGTERM')
  // a SIGSTOPped sshd only acts on the TERM once continued
  signal(pids, 'SIGCONT')
  for (let i = 0; i < 60; i++) {
    if (all.every((p) => (procState(p) ?? 'Z') === 'Z')) return
    await sleep(50)
  }
  signal(all, 'SIGKILL')
}

function killNow(dir: string): void {
  const pids = livePids(hostDirs(dir))
  signal([...pids, ...descendantsOf(pids), ...leftovers(dir)].filter((p) => p !== process.pid), 'SIGKILL')
}
