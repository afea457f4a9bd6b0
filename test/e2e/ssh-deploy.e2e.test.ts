import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {fleet, getJson, ports, scratchFleet, writeSource} from '../helpers/cli.js'
import {useSshHosts} from '../helpers/sshd.js'

// host1-3 healthy, host4 dead (connection refused), host5 hanging (TCP open, no SSH banner)
const testbed = useSshHosts({count: 5, faults: {dead: [4], hang: [5]}})
let dir: string
let f: string[]
let port: number

function fleetYaml(tb: ReturnType<typeof testbed>, p: number): string {
  const hosts = tb.hosts.map(h => `  ${h.name}: {provider: lab, address: ${h.address}, port: ${h.port}, user: ${tb.user}, identity: ${tb.clientKey}, labels: [${h.role === 'ok' ? 'up' : 'faulty'}]}`).join('\n')
  const svc = (q: number) => `{web: {start: node server.js, port: ${q}, replicas: 2, health: {grace: 4s, timeout: 1s}}}`
  return `version: 1
providers: {lab: {type: ssh}}
ssh: {known_hosts: ${tb.knownHostsFile}, connect_timeout: 2s}
hosts:
${hosts}
instances:
  web:
    runtime: ssh
    hosts: [host1, host2, host3]
    release: {source: app}
    services: {web: {start: node server.js, port: ${p}, replicas: 2, health: {grace: 4s, timeout: 1s}, env: {REQUIRED_SECRETS: SESSION_KEY}}}
    secrets: {SESSION_KEY: {source: generate, length: 48}}
    rollout: {boot: 1}
  edge:
    runtime: ssh
    hosts: [host1, host4]
    release: {source: app}
    services: ${svc(p + 10)}
  slow:
    runtime: ssh
    hosts: [host2, host5]
    release: {source: app}
    services: ${svc(p + 20)}
`
}

beforeAll(async () => {
  port = ports(30)
  dir = await scratchFleet(fleetYaml(testbed(), port), {app: {}})
  f = ['-f', path.join(dir, 'fleet.yaml')]
})

afterAll(async () => {
  await fleet(['stop', 'web', '--yes', ...f])
})

const versionAt = async (address: string, p: number) => (await getJson(`http://${address}:${p}/health`)).body.version
const webHosts = () => testbed().hosts.slice(0, 3)

describe('deploy, status, rollback and exec over real sshd', () => {
  it('deploys to three hosts, each serving on its own address, and status reads them over ssh and HTTP', async () => {
    const r = await fleet(['deploy', 'web', '--yes', '--json', ...f])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.json.targets.map((t: {host: string; result: string}) => `${t.host}:${t.result}`).sort()).toEqual(['host1:deployed', 'host2:deployed', 'host3:deployed'])
    const version = r.json.plan.instances[0].version
    for (const h of webHosts()) for (const p of [port, port + 1]) expect(await versionAt(h.address, p)).toBe(version)
    const status = await fleet(['status', 'web', '--json', ...f])
    expect(status.json.instances.map((s: {host: string; health: string; release: string}) => [s.host, s.health, s.release])).toEqual(webHosts().map(h => [h.name, 'ok', version]))
    const again = await fleet(['deploy', 'web', '--yes', '--json', ...f])
    expect(again.json.plan.changes).toBe(0)
  })

  it('rolls the whole instance back when one host fails its health check, then rolls back by hand', async () => {
    const v1 = await versionAt(webHosts()[0].address, port)
    await writeSource(dir, 'app', {marker: 'v2'})
    const plan = await fleet(['plan', 'web', '--json', ...f])
    const v2 = plan.json.instances[0].version
    await writeFile(path.join(webHosts()[1].home, '.fleet-demo-broken'), v2)
    const r = await fleet(['deploy', 'web', '--yes', '--json', ...f])
    expect(r.code).toBe(5)
    expect(r.json.error.message).toMatch(/web@host2 \(host2: web-0 failed its health check \(HTTP 500/)
    expect(Object.fromEntries(r.json.targets.map((t: {host: string; result: string}) => [t.host, t.result]))).toEqual({host1: 'rolled-back', host2: 'failed', host3: 'skipped'})
    for (const h of webHosts()) for (const p of [port, port + 1]) expect(await versionAt(h.address, p)).toBe(v1)
    expect(await readFile(path.join(dir, '.local/fleet/lock.json'), 'utf8').catch(() => 'released')).toBe('released')

    await writeFile(path.join(webHosts()[1].home, '.fleet-demo-broken'), '')
    expect((await fleet(['deploy', 'web', '--yes', ...f])).code).toBe(0)
    for (const h of webHosts()) expect(await versionAt(h.address, port)).toBe(v2)
    const back = await fleet(['rollback', 'web', '--yes', '--json', ...f])
    expect(back.code, back.stderr).toBe(0)
    for (const h of webHosts()) for (const p of [port, port + 1]) expect(await versionAt(h.address, p)).toBe(v1)
  })

  it('a dead host fails its instance with a clear error and changes nothing; other instances still deploy', async () => {
    const r = await fleet(['deploy', 'edge', 'web', '--yes', '--json', ...f])
    expect(r.code).toBe(5)
    const host4 = r.json.targets.find((t: {instance: string; host: string}) => t.instance === 'edge' && t.host === 'host4')
    expect(host4.result).toBe('failed')
    expect(host4.error).toMatch(/host unreachable \(connection refused/)
    expect(r.json.targets.find((t: {instance: string; host: string}) => t.instance === 'edge' && t.host === 'host1')).toMatchObject({result: 'skipped', switched: false})
    expect(r.stderr).not.toMatch(/\n\s+at /)
    const audit = await fleet(['audit', '--json', ...f])
    expect(audit.json.records.at(-1)).toMatchObject({command: 'deploy', outcome: 'partial', exitCode: 5})
  })

  it('a hanging host times out within the connect timeout while the others answer', async () => {
    const started = Date.now()
    const r = await fleet(['exec', '--json', '--host', 'host1', '--host', 'host2', '--host', 'host5', ...f, '--', 'echo "$TESTBED_HOST:$HOME" | tr a-z A-Z'])
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(r.code).toBe(5)
    const byHost = Object.fromEntries(r.json.hosts.map((h: {host: string}) => [h.host, h]))
    expect(byHost.host1).toMatchObject({exitCode: 0, stdout: `HOST1:${testbed().hosts[0].home.toUpperCase()}\n`})
    expect(byHost.host2.exitCode).toBe(0)
    expect(byHost.host5).toMatchObject({exitCode: null, code: 'SSH_TIMEOUT'})
    expect(byHost.host5.error).toMatch(/sshd not answering/)
    expect(r.json.summary).toMatchObject({ok: 2, unreachable: 1})
  })

  it('exec prints per-host prefixed lines and an exit-code summary', async () => {
    const byLabel = await fleet(['exec', '--label', 'up', ...f, '--', 'sh', '-c', 'echo hello from $TESTBED_HOST; [ $TESTBED_HOST != host3 ]'])
    expect(byLabel.code).toBe(5)
    expect(byLabel.stdout).toMatch(/^host1 \| hello from host1$/m)
    expect(byLabel.stdout).toMatch(/^host3 \| hello from host3$/m)
    expect(byLabel.stderr).toContain('1 of 3 host(s) failed: host3 (exit 1)')
  })

  it('scales up and down on every host, the new replicas answering over HTTP', async () => {
    const up = await fleet(['scale', 'web', 'web=3', '--yes', '--json', ...f])
    expect(up.code, up.stdout + up.stderr).toBe(0)
    for (const h of webHosts()) expect((await getJson(`http://${h.address}:${port + 2}/health`)).status).toBe(200)
    const down = await fleet(['scale', 'web', 'web=1', '--yes', '--json', ...f])
    expect(down.code, down.stdout + down.stderr).toBe(0)
    for (const h of webHosts()) {
      expect((await getJson(`http://${h.address}:${port}/health`)).status).toBe(200)
      await expect(getJson(`http://${h.address}:${port + 1}/health`)).rejects.toThrow()
    }
    expect((await fleet(['status', 'web', '--json', ...f])).json.instances.map((s: {replicas: object}) => s.replicas)).toEqual(Array(3).fill({up: 1, healthy: 1, desired: 1}))
  })

  it('rotates a secret on every host: one new value everywhere, the old one gone', async () => {
    const fp = async (address: string) => (await getJson(`http://${address}:${port}/secret-fingerprint/SESSION_KEY`)).body.sha256
    const before = await Promise.all(webHosts().map(h => fp(h.address)))
    expect(new Set(before).size).toBe(1)
    const r = await fleet(['rotate-secrets', 'web', '--yes', '--json', ...f])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const after = await Promise.all(webHosts().map(h => fp(h.address)))
    expect(new Set(after).size).toBe(1)
    expect(after[0]).not.toBe(before[0])
    for (const h of webHosts()) {
      const env = await readFile(path.join(h.home, 'fleet/web/shared/env'), 'utf8')
      expect(env).toMatch(/^SESSION_KEY='[A-Za-z0-9]{48}'$/m)
      await expect(readFile(path.join(h.home, 'fleet/web/shared/env.old'))).rejects.toThrow()
    }
  })

  it('refuses a host whose key changed, naming it, while the other hosts work', async () => {
    await testbed().replaceHostKey(3)
    const r = await fleet(['exec', '--json', '--instance', 'web', ...f, '--', 'true'])
    expect(r.code).toBe(5)
    const host3 = r.json.hosts.find((h: {host: string}) => h.host === 'host3')
    expect(host3).toMatchObject({exitCode: null, code: 'SSH_HOSTKEY'})
    expect(host3.error).toMatch(/SHA256:/)
    expect(r.json.hosts.filter((h: {exitCode: number}) => h.exitCode === 0).map((h: {host: string}) => h.host)).toEqual(['host1', 'host2'])
    const status = await fleet(['status', 'web', '--json', ...f])
    expect(status.json.instances.find((s: {host: string}) => s.host === 'host3')).toMatchObject({health: 'unreachable'})
  })
})
