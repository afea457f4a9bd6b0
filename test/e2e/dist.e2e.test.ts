import {readFile} from 'node:fs/promises'
import {describe, expect, it} from 'vitest'
import {checkedFakes, expectExit, expectJson, dropletPosts, poolOnFakeDigitalOcean} from '../helpers/cloud-fleet.js'
import type {FakeDigitalOcean, FakeDigitalOceanOptions} from '../helpers/fake-digitalocean.js'
import {useSshHosts} from '../helpers/sshd.js'

// The fake DigitalOcean hands out the testbed's addresses, so every droplet it "creates" is a real sshd on 127.0.0.x.
const testbed = useSshHosts({count: 6})
const track = checkedFakes<FakeDigitalOcean>()

const setup = (opts: FakeDigitalOceanOptions = {}, pool: Record<string, string | number> = {}) => poolOnFakeDigitalOcean(testbed(), track, opts, pool)
const posts = dropletPosts

describe('dist: runner pool on DigitalOcean (fake API, real sshd)', () => {
  it('dist:up 3 creates three tagged runners, dist:run runs on all of them over ssh, dist:down leaves none', async () => {
    const {fake, run, inventory, tb} = await setup()
    const up = await run(['dist:up', '3', '--yes', '--json'])
    expectJson('dist:up', up, 0)
    expect(up.json.runners.map((r: {name: string; result: string}) => `${r.name}:${r.result}`).sort()).toEqual(['ci-1:created', 'ci-2:created', 'ci-3:created'])
    expect(posts(fake)).toHaveLength(1)
    const droplets = [...fake.droplets.values()]
    expect(droplets.map(d => d.name).sort()).toEqual(['ci-1', 'ci-2', 'ci-3'])
    for (const d of droplets) expect(d.tags).toEqual(expect.arrayContaining(['fleet:e2e', 'fleet-pool:ci', 'ci:runner']))
    expect([...fake.keys.values()].map(k => k.public_key.split(' ')[1])).toEqual([(await readFile(`${tb.clientKey}.pub`, 'utf8')).split(' ')[1]])
    const inv = await inventory()
    expect(inv.fleet).toBe('e2e')
    expect(inv.machines.map((m: {name: string; address: string; role: string}) => [m.name, m.role, m.address])).toEqual([
      ['ci-1', 'runner', tb.hosts[0].address], ['ci-2', 'runner', tb.hosts[1].address], ['ci-3', 'runner', tb.hosts[2].address]])

    const again = await run(['dist:up', '3', '--yes', '--json'])
    expectJson('dist:up', again, 0)
    expect(again.json.plan.changes).toBe(0)
    expect(posts(fake)).toHaveLength(1)

    const exec = await run(['dist:run', '--json', '--', 'uname -a; echo "on $TESTBED_HOST"'])
    expectJson('dist:run', exec, 0)
    expect(exec.json.hosts).toHaveLength(3)
    for (const [i, h] of exec.json.hosts.entries()) {
      expect(h.exitCode).toBe(0)
      expect(h.stdout).toMatch(/^Linux /)
      expect(h.stdout).toContain(`on host${i + 1}`)
    }
    const human = await run(['dist:run', '--', 'uname', '-s'])
    expectExit(human, 0)
    expect(human.stdout.split('\n').filter(l => l.includes(' | ')).sort()).toEqual(['ci-1 | Linux', 'ci-2 | Linux', 'ci-3 | Linux'])
    expect((await inventory()).machines.every((m: {lastUsedAt?: string}) => m.lastUsedAt)).toBe(true)

    const status = await run(['dist:status', '--json'])
    expectJson('dist:status', status, 0)
    expect(status.json.runners.map((r: {name: string; state: string; hourly: number}) => [r.name, r.state, r.hourly > 0])).toEqual([
      ['ci-1', 'running', true], ['ci-2', 'running', true], ['ci-3', 'running', true]])
    expect(status.json.costSoFar).toBeGreaterThanOrEqual(0)

    const down = await run(['dist:down', '--yes', '--json'])
    expectJson('dist:down', down, 0)
    expect(down.json.left).toBe(0)
    expect(fake.droplets.size).toBe(0)
    expect((await inventory()).machines).toEqual([])
  })

  it('pages through more runners than one page and rides out 429 (Retry-After) and 5xx', async () => {
    const {fake, run} = await setup({maxPerPage: 2})
    fake.failNext({method: 'POST', path: /^\/v2\/droplets$/, status: 429, retryAfter: 1})
    fake.failNext({method: 'GET', path: /^\/v2\/droplets\/\d+$/, status: 503, times: 2})
    const up = await run(['dist:up', '5', '--yes', '--json'])
    expectJson('dist:up', up, 0)
    expect(fake.droplets.size).toBe(5)
    expect(fake.requests.filter(r => r.status === 429)).toHaveLength(1)
    const status = await run(['dist:status', '--json'])
    expect(status.json.runners).toHaveLength(5)
    expect(fake.requests.some(r => r.path === '/v2/droplets' && r.search.includes('page=3'))).toBe(true)

    const exec = await run(['dist:run', '--json', '--', 'test "$TESTBED_HOST" != host2'])
    expectJson('dist:run', exec, 5)
    expect(exec.json.hosts.filter((h: {exitCode: number}) => h.exitCode !== 0).map((h: {host: string}) => h.host)).toEqual(['ci-2'])
    expect(exec.json.error.code).toBe('FLEET_PARTIAL')

    fake.failNext({method: 'DELETE', path: /^\/v2\/droplets\/\d+$/, status: 500, times: 2})
    fake.failNext({method: 'GET', path: /^\/v2\/droplets$/, status: 503, times: 2})
    const down = await run(['dist:down', '--yes', '--json'])
    expectJson('dist:down', down, 0)
    expect(down.json.left).toBe(0)
    expect(fake.droplets.size).toBe(0)
    expect(fake.requests.filter(r => r.status >= 500).length).toBeGreaterThanOrEqual(6)
  })

  it('a create whose answer was lost (5xx after it applied) is found by name, not sent twice', async () => {
    const {fake, run} = await setup()
    fake.failNext({method: 'POST', path: /^\/v2\/droplets$/, status: 500, afterApply: true})
    const up = await run(['dist:up', '2', '--yes', '--json'])
    expectJson('dist:up', up, 0)
    expect(posts(fake)).toHaveLength(1)
    expect(fake.droplets.size).toBe(2)
  })
})
