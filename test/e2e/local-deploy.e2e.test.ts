import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {execa} from 'execa'
import {afterEach, describe, expect, it} from 'vitest'
import {bin, fleet, getJson, ports, processesWith, scratchFleet, writeSource} from '../helpers/cli.js'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fleet(['stop', '--yes', '-f', path.join(dir, 'fleet.yaml')])
})

function twoInstances(pa: number, pb: number, extra = ''): string {
  return `version: 1
instances:
  a:
    runtime: local
    release: {source: src-a}
    services: {web: {start: node server.js, port: ${pa}, replicas: 2, health: {grace: 4s, timeout: 1s}}}
  b:
    runtime: local
    release: {source: src-b}
    services: {web: {start: node server.js, port: ${pb}, replicas: 1, health: {grace: 4s, timeout: 1s}}}
${extra}`
}

async function setup(extra = '') {
  const [pa, pb] = [ports(2), ports(1)]
  const dir = await scratchFleet(twoInstances(pa, pb, extra), {'src-a': {}, 'src-b': {}})
  dirs.push(dir)
  const f = ['-f', path.join(dir, 'fleet.yaml')]
  return {dir, f, pa, pb}
}

describe('deploy and status on the local runtime', () => {
  it('deploys, reports health from real HTTP, converges on a second run, and stop leaves nothing running', async () => {
    const {dir, f, pa, pb} = await setup()
    const first = await fleet(['deploy', '--yes', '--json', ...f])
    expect(first.code, first.stderr).toBe(0)
    expect(first.json.targets.map((t: {result: string}) => t.result)).toEqual(['deployed', 'deployed'])
    const version = first.json.plan.instances[0].version

    for (const port of [pa, pa + 1, pb]) expect((await getJson(`http://127.0.0.1:${port}/health`)).body.version).toBe(version)
    const status = await fleet(['status', '--json', ...f])
    expect(status.code).toBe(0)
    expect(status.json.instances.map((r: {instance: string; health: string; replicas: object}) => [r.instance, r.health, r.replicas])).toEqual([
      ['a', 'ok', {up: 2, healthy: 2, desired: 2}],
      ['b', 'ok', {up: 1, healthy: 1, desired: 1}],
    ])
    expect(status.json.instances[0].latencyMs).toBeGreaterThanOrEqual(0)

    const pids = await processesWith(dir)
    expect(pids).toHaveLength(3)
    const again = await fleet(['deploy', '--yes', '--json', ...f])
    expect(again.code).toBe(0)
    expect(again.json.plan.changes).toBe(0)
    expect((await processesWith(dir)).sort()).toEqual(pids.sort())

    process.kill(pids[0], 'SIGKILL')
    await new Promise(r => setTimeout(r, 200))
    const healed = await fleet(['deploy', '--yes', '--json', ...f])
    expect(healed.code, healed.stderr).toBe(0)
    expect(healed.json.targets.map((t: {result: string}) => t.result).sort()).toEqual(['restarted', 'unchanged'])
    expect(await processesWith(dir)).toHaveLength(3)

    const table = await fleet(['status', ...f])
    expect(table.stdout).toMatch(/│ a\s+│ local\s+│ local\s+│ [0-9a-f]{12}\s+│ ok\s+│ \d+ ms\s+│ 2\/2/)

    const stopped = await fleet(['stop', '--yes', ...f])
    expect(stopped.code).toBe(0)
    expect(await processesWith(dir)).toEqual([])
    const down = await fleet(['status', '--json', ...f])
    expect(down.json.instances.map((r: {health: string}) => r.health)).toEqual(['down', 'down'])
  })

  it('rolls every instance back when one target fails its health check, and exits 5 naming it', async () => {
    const {dir, f, pa, pb} = await setup()
    expect((await fleet(['deploy', '--yes', ...f])).code).toBe(0)
    const v1 = (await getJson(`http://127.0.0.1:${pa}/health`)).body.version

    await writeSource(dir, 'src-a', {marker: 'v2'})
    await writeSource(dir, 'src-b', {marker: 'v2', broken: true})
    const bad = await fleet(['deploy', '--yes', '--json', ...f])
    expect(bad.code).toBe(5)
    expect(bad.json.error.code).toBe('FLEET_PARTIAL')
    expect(bad.json.error.message).toContain('b@local')
    expect(bad.json.error.message).toContain('HTTP 500')
    const byInstance = Object.fromEntries(bad.json.targets.map((t: {instance: string; result: string}) => [t.instance, t.result]))
    expect(byInstance).toEqual({a: 'rolled-back', b: 'failed'})
    for (const port of [pa, pa + 1, pb]) {
      const h = await getJson(`http://127.0.0.1:${port}/health`)
      expect([h.status, h.body.version]).toEqual([200, v1])
    }

    const human = await fleet(['deploy', '--yes', ...f])
    expect(human.code).toBe(5)
    expect(human.stderr).toContain('deploy failed on b@local')
    expect(human.stderr).not.toMatch(/\n\s+at /)
    const audit = await fleet(['audit', '--json', ...f])
    expect(audit.json.records.at(-1)).toMatchObject({command: 'deploy', outcome: 'partial', exitCode: 5})
  })

  it('rolls an instance back to its previous healthy release', async () => {
    const {dir, f, pa} = await setup()
    expect((await fleet(['deploy', '--yes', ...f])).code).toBe(0)
    const v1 = (await getJson(`http://127.0.0.1:${pa}/health`)).body.version
    await writeSource(dir, 'src-a', {marker: 'v2'})
    expect((await fleet(['deploy', 'a', '--yes', ...f])).code).toBe(0)
    const v2 = (await getJson(`http://127.0.0.1:${pa}/health`)).body.version
    expect(v2).not.toBe(v1)

    const dry = await fleet(['rollback', 'a', '--dry-run', '--json', ...f])
    expect(dry.json.targets[0]).toMatchObject({from: v2, to: v1})
    expect((await getJson(`http://127.0.0.1:${pa}/health`)).body.version).toBe(v2)
    const back = await fleet(['rollback', 'a', '--yes', '--json', ...f])
    expect(back.code, back.stderr).toBe(0)
    for (const port of [pa, pa + 1]) expect((await getJson(`http://127.0.0.1:${port}/health`)).body.version).toBe(v1)
  })

  it('refuses to change anything without a terminal or --yes, and --dry-run changes nothing', async () => {
    const {dir, f} = await setup()
    const refused = await fleet(['deploy', ...f])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('pass --yes')
    const dry = await fleet(['deploy', '--dry-run', '--json', ...f])
    expect(dry.code).toBe(0)
    expect(dry.json).toMatchObject({dryRun: true, targets: []})
    expect(dry.json.plan.changes).toBe(2)
    expect(await processesWith(dir)).toEqual([])
  })

  it('refuses a second change while the fleet is locked, naming who, since when and which command', async () => {
    const {f} = await setup()
    const taken = await fleet(['lock', 'acquire', '--message', 'db maintenance', '--json', ...f])
    expect(taken.code).toBe(0)
    const refused = await fleet(['deploy', '--yes', ...f])
    expect(refused.code).toBe(4)
    expect(refused.stderr).toMatch(/locked by \S+@\S+ since \d{4}-\d\d-\d\dT.* \(lock acquire: db maintenance\)/)
    const status = await fleet(['status', '--json', ...f])
    expect(status.json.lock).toMatchObject({command: 'lock acquire', note: 'db maintenance'})
    expect((await fleet(['lock', 'release', ...f])).code).toBe(2)
    expect((await fleet(['lock', 'release', '--yes', ...f])).code).toBe(0)
    expect((await fleet(['deploy', '--yes', ...f])).code).toBe(0)
  })

  it('on SIGINT stops, rolls back what switched, releases the lock, records the interruption and exits 130', async () => {
    const [pa, pb] = [ports(2), ports(1)]
    const dir = await scratchFleet(twoInstances(pa, pb).replace('health: {grace: 4s', 'health: {grace: 30s'), {'src-a': {}, 'src-b': {}})
    dirs.push(dir)
    const f = ['-f', path.join(dir, 'fleet.yaml')]
    expect((await fleet(['deploy', '--yes', ...f])).code).toBe(0)
    await writeSource(dir, 'src-a', {marker: 'v2', broken: true})
    const child = execa('node', [bin, 'deploy', 'a', '--yes', ...f], {reject: false, env: {CI: 'true'}})
    let seen = ''
    await new Promise<void>(resolve => child.stderr!.on('data', (c: Buffer) => {
      seen += c.toString()
      if (seen.includes('current ->')) resolve()
    }))
    child.kill('SIGINT')
    const r = await child
    expect(r.exitCode).toBe(130)
    expect(await readFile(path.join(dir, '.local/fleet/lock.json'), 'utf8').catch(() => 'gone')).toBe('gone')
    const audit = await fleet(['audit', '--json', ...f])
    expect(audit.json.records.at(-1)).toMatchObject({command: 'deploy', outcome: 'interrupted', exitCode: 130})
    const h = await getJson(`http://127.0.0.1:${pa}/health`)
    expect(h.status).toBe(200)
  })
})
