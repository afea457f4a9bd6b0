// N real sshd "hosts" on 127.0.0.(i+1):PORT for the benchmarks: a plain-JS cut of test/helpers/sshd.ts (which is
// TypeScript and tied to vitest) that also writes the client files parallel-ssh and ansible need.
import {execFile, spawn} from 'node:child_process'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {promisify} from 'node:util'

const SSHD = process.env.SSHD_BIN ?? '/usr/sbin/sshd'
const run = promisify(execFile)

export async function startSshHosts({count, dir}) {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing (apt-get install openssh-server)`)
  if (count < 1 || count > 250) throw new Error('count must be 1..250 (one 127.0.0.x address per host)')
  if (process.getuid?.() === 0) await mkdir('/run/sshd', {recursive: true, mode: 0o755})
  dir ??= await mkdtemp(join(tmpdir(), 'fleet-bench-sshd-'))
  const user = userInfo().username
  const clientKey = join(dir, 'client', 'id_ed25519')
  await mkdir(join(dir, 'client'), {recursive: true, mode: 0o700})
  await keygen(clientKey, 'fleet-bench-client')
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`), {mode: 0o600})
  const hosts = await Promise.all(Array.from({length: count}, async (_, i) => {
    const h = {name: `host${i + 1}`, address: `127.0.0.${i + 2}`, port: 0, dir: join(dir, `host${i + 1}`)}
    h.home = join(h.dir, 'home')
    await mkdir(h.home, {recursive: true})
    // Debian's bash sources ~/.bashrc for ssh commands; an empty one keeps every command's cost the same
    await writeFile(join(h.home, '.bashrc'), '')
    await keygen(join(h.dir, 'ssh_host_ed25519_key'), h.name)
    return h
  }))
  const stop = () => stopPids(hosts)
  for (let attempt = 1; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    for (const h of hosts) h.port = port
    await Promise.all(hosts.map((h) => writeFile(join(h.dir, 'sshd_config'), sshdConfig(h, dir))))
    if ((await Promise.all(hosts.map(startSshd))).every(Boolean)) break
    await stop()
    if (attempt === 5) throw new Error(`sshd did not start; see ${hosts[0].dir}/sshd.log`)
  }
  process.once('exit', () => signal(hostPids(hosts), 'SIGKILL'))

  const knownHostsFile = join(dir, 'known_hosts')
  const sshConfigFile = join(dir, 'ssh_config')
  const hostKey = (h) => readFileSync(join(h.dir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')
  await writeFile(knownHostsFile, hosts.map((h) => `[${h.address}]:${h.port} ${hostKey(h)}\n`).join(''))
  await writeFile(sshConfigFile, [
    ...hosts.map((h) => `Host ${h.name}\n  HostName ${h.address}\n  Port ${h.port}\n`),
    `Host *\n  User ${user}\n  IdentityFile ${clientKey}\n  IdentitiesOnly yes\n  IdentityAgent none\n  UserKnownHostsFile ${knownHostsFile}\n`,
    '  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  CheckHostIP no\n  UpdateHostKeys no\n  BatchMode yes\n  ConnectTimeout 10\n  LogLevel ERROR\n',
  ].join(''))
  return {dir, user, hosts, clientKey, knownHostsFile, sshConfigFile, stop: async () => {
    await stop()
    await rm(dir, {recursive: true, force: true})
  }}
}

/** What parallel-ssh, ansible and a shell loop of ssh need to reach the first `count` hosts, written into `dir`. */
export async function writeClientFiles(tb, count, dir) {
  const hosts = tb.hosts.slice(0, count)
  await mkdir(dir, {recursive: true})
  const files = {psshHostsFile: join(dir, 'pssh_hosts'), inventoryFile: join(dir, 'inventory.ini'), sshLoopFile: join(dir, 'ssh-loop.sh')}
  await writeFile(files.psshHostsFile, hosts.map((h) => `${tb.user}@${h.address}:${h.port}\n`).join(''))
  // ansible expands ~ in remote_tmp as ~USER (the passwd home), not the session's HOME: give each host its own
  await writeFile(files.inventoryFile, [
    '[fleet]\n',
    ...hosts.map((h) => `${h.name} ansible_host=${h.address} ansible_port=${h.port} ansible_remote_tmp=${h.home}/.ansible/tmp\n`),
    `[fleet:vars]\nansible_user=${tb.user}\nansible_ssh_private_key_file=${tb.clientKey}\nansible_ssh_common_args=-F ${tb.sshConfigFile}\nansible_python_interpreter=/usr/bin/python3\n`,
  ].join(''))
  await writeFile(files.sshLoopFile, `pids=
for i in $(seq 1 ${count}); do ssh -F ${tb.sshConfigFile} host$i "$@" & pids="$pids $!"; done
rc=0
for p in $pids; do wait $p || rc=1; done
exit $rc
`)
  return files
}

function sshdConfig(h, dir) {
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
MaxStartups 100:30:200
MaxSessions 20
LoginGraceTime 30
SetEnv TESTBED_HOST=${h.name} HOME=${h.home}
`
}

async function keygen(file, comment) {
  if (!existsSync(file)) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file])
}

async function startSshd(h) {
  await rm(join(h.dir, 'sshd.pid'), {force: true})
  // -D keeps sshd in the foreground so an early exit (port taken) shows at once
  const child = spawn(SSHD, ['-D', '-f', join(h.dir, 'sshd_config'), '-E', join(h.dir, 'sshd.log')], {stdio: 'ignore', detached: true})
  child.unref()
  let exited = false
  child.once('exit', () => (exited = true))
  child.once('error', () => (exited = true))
  for (let i = 0; i < 250 && !exited; i++) {
    if (pidOf(h) === child.pid) return true
    await sleep(20)
  }
  if (!exited) child.kill('SIGKILL')
  return false
}

/** The live sshd of a host, from its pid file, only if /proc says that pid runs this host's config. */
function pidOf(h) {
  try {
    const pid = Number(readFileSync(join(h.dir, 'sshd.pid'), 'utf8').trim())
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(h.dir, 'sshd_config')) ? pid : undefined
  } catch {
    return undefined
  }
}

function hostPids(hosts) {
  const daemons = hosts.map(pidOf).filter(Boolean)
  const parents = new Set(daemons)
  const sessions = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      return parents.has(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      return false
    }
  })
  return [...daemons, ...sessions]
}

function signal(pids, sig) {
  for (const pid of pids) {
    try {
      process.kill(pid, sig)
    } catch {}
  }
}

async function stopPids(hosts) {
  const pids = hostPids(hosts)
  signal(pids, 'SIGTERM')
  for (let i = 0; i < 60 && pids.some(alive); i++) await sleep(50)
  signal(pids.filter(alive), 'SIGKILL')
}

function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}
