import {randomUUID} from 'node:crypto'
import {readdirSync, readFileSync} from 'node:fs'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {TransportError} from '../../src/errors.js'
import {checkHostKey, fingerprint, parseKnownHosts} from '../../src/transport/known-hosts.js'
import {SshPool, shellQuote, type SshOptions} from '../../src/transport/ssh.js'
import {useSshHosts} from '../helpers/sshd.js'

// host4 never starts (connection refused), host5's sshd is SIGSTOPped (TCP open, no banner),
// host6 gets a new host key in the last test
const testbed = useSshHosts({count: 6, faults: {dead: [4], hang: [5]}})
const pools: SshPool[] = []
let scratch: string

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'fleet-ssh-e2e-'))
})
afterAll(async () => {
  await rm(scratch, {recursive: true, force: true})
})
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.closeAll()))
})

function pool(opts: SshOptions = {}): SshPool {
  const tb = testbed()
  const p = new SshPool({knownHostsFile: tb.knownHostsFile, configFile: tb.sshConfigFile, agentSocket: '', home: scratch, connectTimeoutMs: 3000, ...opts})
  pools.push(p)
  return p
}

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(() => undefined, (error_: unknown) => error_)
  expect(error).toBeInstanceOf(TransportError)
  return error as TransportError
}

function cmdlinesContaining(needle: string): number {
  let found = 0
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) found++
    } catch {}
  }
  return found
}

async function until(check: () => boolean, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) if (check()) return true
  return check()
}

describe('ssh transport against real sshd', () => {
  it('runs commands on three hosts, each with its own HOME, keeping stdout, stderr and exit code', async () => {
    const tb = testbed()
    const p = pool()
    const results = await Promise.all([1, 2, 3].map((n) => p.get(tb.target(n)).exec(['sh', '-c', 'echo "$TESTBED_HOST $HOME"; echo oops >&2; exit 3'])))
    results.forEach((r, i) => {
      expect(r).toMatchObject({stdout: `host${i + 1} ${tb.hosts[i].home}\n`, stderr: 'oops\n', code: 3})
      expect(r.durationMs).toBeGreaterThanOrEqual(0)
    })
  })

  it('streams output, runs in cwd and reports a signal as 128+n', async () => {
    const t = pool().get(testbed().target(1))
    const chunks: string[] = []
    const r = await t.exec(['sh', '-c', 'echo one; sleep 0.2; echo two >&2'], {onOutput: (c, s) => chunks.push(`${s}:${c}`)})
    expect(chunks).toEqual(['stdout:one\n', 'stderr:two\n'])
    expect(r.code).toBe(0)
    expect((await t.exec(['pwd'], {cwd: '/tmp'})).stdout).toBe('/tmp\n')
    expect((await t.exec(['sh', '-c', 'kill -TERM $$'])).code).toBe(143)
  })

  it('quotes arguments so they reach the remote program unchanged', async () => {
    const nasty = ['$HOME', "it's", '"dq"', 'a;b', 'x && y', 'line1\nline2', '`id`', '$(id)', '\\', '*', '', ' lead', '~', '-n', 'A=1', 'ünï', "'"]
    expect(shellQuote(['echo', 'a b', "it's", '', 'ok/path-1.2'])).toBe(`echo 'a b' 'it'\\''s' '' ok/path-1.2`)
    const r = await pool().get(testbed().target(2)).exec(['printf', '%s\\0', ...nasty])
    expect(r.code).toBe(0)
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(nasty)
  })

  it('delivers stdin without putting it on any command line', async () => {
    const tb = testbed()
    const t = pool().get(tb.target(1))
    const marker = `argv-marker-${randomUUID()}`
    const control = t.exec(['sh', '-c', 'sleep 1', marker])
    // the scan must be able to see a value that is on a remote command line
    expect(await until(() => cmdlinesContaining(marker) > 0)).toBe(true)
    await control

    const secret = `s3cret-${randomUUID()}`
    const run = t.exec(['sh', '-c', 'cat > "$HOME/secret"; sleep 1'], {stdin: secret})
    let seen = 0
    for (let i = 0; i < 16; i++, await sleep(50)) seen += cmdlinesContaining(secret)
    expect((await run).code).toBe(0)
    expect(seen).toBe(0)
    expect(await readFile(join(tb.hosts[0].home, 'secret'), 'utf8')).toBe(secret)
  })

  it('reuses one connection per host for many commands', async () => {
    const tb = testbed()
    expect(await until(() => tb.connections(3) === 0)).toBe(true)
    const before = await tb.logins(3)
    const p = pool()
    const t = p.get(tb.target(3))
    const outs = await Promise.all(Array.from({length: 15}, (_, i) => t.exec(['echo', String(i)])))
    for (let i = 0; i < 5; i++) outs.push(await p.get(tb.target(3)).exec(['echo', 'again']))
    expect(outs.map((r) => r.code)).toEqual(Array.from({length: 20}, () => 0))
    expect(tb.connections(3)).toBe(1)
    expect(await tb.logins(3)).toBe(before + 1)
    await p.closeAll()
    expect(await until(() => tb.connections(3) === 0)).toBe(true)
  })

  it('reports a dead host as unreachable at once', async () => {
    const tb = testbed()
    const started = Date.now()
    const error = await failure(pool().get(tb.target(4)).exec(['true']))
    expect(Date.now() - started).toBeLessThan(1000)
    expect(error.code).toBe('SSH_CONNECT')
    expect(error.message).toBe(`host4: host unreachable (connection refused at 127.0.0.5:${tb.hosts[3].port})`)
    expect(error.suggestions?.[0]).toMatch(/sshd listens on port/)
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
  })

  it('reports a hanging sshd as not answering within the connect timeout and leaves no socket behind', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length
    const baseline = sockets()
    const p = pool({connectTimeoutMs: 1000})
    const started = Date.now()
    const error = await failure(p.get(testbed().target(5)).exec(['true']))
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(950)
    expect(elapsed).toBeLessThan(2500)
    expect(error.code).toBe('SSH_TIMEOUT')
    expect(error.message).toBe('host5: sshd not answering (no SSH banner within 1s)')
    await p.closeAll()
    expect(sockets()).toBeLessThanOrEqual(baseline)

    const slow = pool({connectTimeoutMs: 10_000})
    const pending = failure(slow.get(testbed().target(5)).exec(['true']))
    await sleep(200)
    const closing = Date.now()
    await slow.closeAll()
    expect(Date.now() - closing).toBeLessThan(500)
    expect((await pending).code).toBe('SSH_CLOSED')
    expect(sockets()).toBeLessThanOrEqual(baseline)
  })

  it('reports a name that does not resolve and a key that is not authorized', async () => {
    const tb = testbed()
    const dns = await failure(pool().get({name: 'ghost', host: 'no-such-host.invalid'}).exec(['true']))
    expect(dns.code).toBe('SSH_CONNECT')
    expect(dns.message).toMatch(/DNS cannot resolve "no-such-host.invalid"/)
    const wrongKey = join(tb.hosts[0].dir, 'ssh_host_ed25519_key')
    // no ssh config here: its `Host *` IdentityFile would be tried after the wrong key and succeed
    const auth = await failure(pool({configFile: join(scratch, 'none')}).get({...tb.target(1), identityFile: wrongKey}).exec(['true']))
    expect(auth.code).toBe('SSH_AUTH')
    expect(auth.message).toBe(`host1: authentication as ${tb.user} failed (tried ${wrongKey})`)
  })

  it('refuses an unknown host when strict and records it with accept-new', async () => {
    const tb = testbed()
    const file = join(scratch, 'known_hosts_partial')
    const first = readFileSync(tb.knownHostsFile, 'utf8').split('\n')[0]
    await writeFile(file, first) // no trailing newline: the append must still start a new line
    const h2 = tb.hosts[1]

    const refused = await failure(pool({knownHostsFile: file}).get(tb.target(2)).exec(['true']))
    expect(refused.code).toBe('SSH_HOSTKEY')
    expect(refused.message).toBe(`host2: host key for [${h2.address}]:${h2.port} is not known (ssh-ed25519 ${fingerprint(tb.hostKey(2))})`)
    expect(refused.suggestions?.[0]).toContain(`ssh-keyscan -p ${h2.port} ${h2.address} >> ${file}`)
    expect(await readFile(file, 'utf8')).toBe(first)

    const p = pool({knownHostsFile: file, hostKeyPolicy: 'accept-new'})
    const r = await Promise.all([p.get(tb.target(2)).exec(['true']), p.get(tb.target(1)).exec(['true'])])
    expect(r.map((x) => x.code)).toEqual([0, 0])
    const lines = (await readFile(file, 'utf8')).split('\n')
    expect(lines).toHaveLength(3)
    expect(checkHostKey(parseKnownHosts(lines[1]), h2.address, h2.port, tb.hostKey(2)).status).toBe('known')
    expect((await pool({knownHostsFile: file}).get(tb.target(2)).exec(['true'])).code).toBe(0)
  })

  it('reaches host2 through host1 with ProxyJump from an ssh config alias, checking both host keys', async () => {
    const tb = testbed()
    const [h1, h2] = tb.hosts
    const config = join(scratch, 'ssh_config_jump')
    await writeFile(config, `Host jumped\n  HostName ${h2.address}\n  Port ${h2.port}\n  ProxyJump host1\n\n${await readFile(tb.sshConfigFile, 'utf8')}`)
    const [logins1, logins2] = [await tb.logins(1), await tb.logins(2)]
    const r = await pool({configFile: config}).get({name: 'jumped', host: 'jumped'}).exec(['sh', '-c', 'echo $TESTBED_HOST'])
    expect(r.stdout).toBe('host2\n')
    expect(await tb.logins(1)).toBe(logins1 + 1)
    expect(await tb.logins(2)).toBe(logins2 + 1)

    const onlyTarget = join(scratch, 'known_hosts_target_only')
    await writeFile(onlyTarget, readFileSync(tb.knownHostsFile, 'utf8').split('\n')[1] + '\n')
    const error = await failure(pool({configFile: config, knownHostsFile: onlyTarget}).get({name: 'jumped', host: 'jumped'}).exec(['true']))
    expect(error.code).toBe('SSH_HOSTKEY')
    expect(error.message).toBe(`jumped: via jump host host1: host key for [${h1.address}]:${h1.port} is not known (ssh-ed25519 ${fingerprint(tb.hostKey(1))})`)
  })

  it('ends a command that outlives its timeout and keeps the connection usable', async () => {
    const tb = testbed()
    const t = pool().get(tb.target(2))
    await t.exec(['true'])
    const logins = await tb.logins(2)
    const secret = `stdin-${randomUUID()}`
    const started = Date.now()
    const error = await failure(t.exec(['sh', '-c', 'cat >/dev/null; sleep 5'], {timeoutMs: 400, stdin: secret}))
    expect(Date.now() - started).toBeLessThan(1500)
    expect(error.code).toBe('SSH_TIMEOUT')
    expect(error.message).toBe('host2: command timed out after 0.4s: sh')
    expect(`${error.message} ${error.suggestions}`).not.toContain(secret)
    expect((await t.exec(['echo', 'still here'])).stdout).toBe('still here\n')

    const aborted = t.exec(['sleep', '3'], {signal: AbortSignal.timeout(200)})
    await expect(aborted).rejects.toMatchObject({name: 'TimeoutError'})
    expect(await tb.logins(2)).toBe(logins)
  })

  it('refuses a changed host key with host, fingerprint and known_hosts line, while other hosts still work', async () => {
    const tb = testbed()
    const h6 = tb.hosts[5]
    const oldKey = tb.hostKey(6)
    const newKey = await tb.replaceHostKey(6)
    expect(newKey.equals(oldKey)).toBe(false)
    for (const policy of ['strict', 'accept-new'] as const) {
      const p = pool({hostKeyPolicy: policy})
      const [changed, fine] = await Promise.allSettled([p.get(tb.target(6)).exec(['true']), p.get(tb.target(1)).exec(['echo', 'ok'])])
      expect(fine).toMatchObject({status: 'fulfilled', value: {stdout: 'ok\n'}})
      expect(changed.status).toBe('rejected')
      const error = (changed as PromiseRejectedResult).reason as TransportError
      expect(error.code).toBe('SSH_HOSTKEY')
      expect(error.message).toBe(
        `host6: host key for [${h6.address}]:${h6.port} has changed: the host offers ssh-ed25519 ${fingerprint(newKey)}, but ${tb.knownHostsFile}:6 has ${fingerprint(oldKey)}`,
      )
      expect(error.suggestions?.[0]).toContain(`ssh-keygen -R '[${h6.address}]:${h6.port}'`)
    }
    expect(readFileSync(tb.knownHostsFile, 'utf8')).not.toContain(newKey.toString('base64'))
  })
})
