import {chmod, mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {checkedFakes, expectJson, dropletPosts, poolOnFakeDigitalOcean} from '../helpers/cloud-fleet.js'
import type {FakeDigitalOcean, FakeDigitalOceanOptions} from '../helpers/fake-digitalocean.js'
import {useSshHosts} from '../helpers/sshd.js'

// The fake DigitalOcean hands out the testbed's addresses, so every droplet it "creates" is a real sshd on 127.0.0.x.
const testbed = useSshHosts({count: 3})
const track = checkedFakes<FakeDigitalOcean>()

const setup = (opts: FakeDigitalOceanOptions = {}, pool: Record<string, string | number> = {}) => poolOnFakeDigitalOcean(testbed(), track, opts, pool)
const posts = dropletPosts

describe('dist: refusals, reaping and offline checks (fake DigitalOcean, real sshd)', () => {
  it('refuses more runners than the pool max or the droplet limit allows, and changes without --yes', async () => {
    const {fake, run} = await setup({dropletLimit: 2})
    const tooMany = await run(['dist:up', '7', '--yes'])
    expect(tooMany.code).toBe(2)
    expect(tooMany.stderr).toContain('pool ci may have at most 6 runners (pools.ci.max)')
    const quota = await run(['dist:up', '3', '--yes', '--json'])
    expectJson('dist:up', quota, 2)
    expect(quota.json.error.message).toContain('can create 2 more machine(s) (its droplet limit)')
    const noYes = await run(['dist:up', '2'])
    expect(noYes.code).toBe(2)
    expect(noYes.stderr).toContain('without approval')
    const dry = await run(['dist:up', '2', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stderr).toMatch(/ci-1\W+create/)
    expect(posts(fake)).toHaveLength(0)
    expect(fake.droplets.size).toBe(0)
  })

  it('scales down highest first (fleet scale POOL N is dist:up N), and reaps runners no dist:run reached within the idle timeout', async () => {
    const {fake, dir, run, inventory} = await setup({}, {idle: '30m'})
    expect((await run(['dist:up', '3', '--yes'])).code).toBe(0)
    const down = await run(['scale', 'ci', '1', '--yes', '--json'])
    expectJson('dist:up', down, 0)
    expect(down.json.runners.map((r: {name: string; result: string}) => `${r.name}:${r.result}`)).toEqual(['ci-3:removed', 'ci-2:removed'])
    expect([...fake.droplets.values()].map(d => d.name)).toEqual(['ci-1'])
    expect((await run(['dist:run', '--', 'true'])).code).toBe(0)
    expect((await run(['dist:up', '2', '--yes'])).code).toBe(0)
    // ci-1 was last used two hours ago; ci-2 is new and never used, so it is idle only since it was created.
    const inv = await inventory()
    const ci1 = inv.machines.find((m: {name: string}) => m.name === 'ci-1')
    expect(ci1.lastUsedAt).toBeDefined()
    ci1.lastUsedAt = new Date(Date.now() - 2 * 3_600_000).toISOString()
    await writeFile(path.join(dir, '.local/fleet/inventory'), JSON.stringify(inv))
    const reap = await run(['dist:reap', '--yes', '--json'])
    expectJson('dist:reap', reap, 0)
    expect(reap.json.plan.remove.map((r: {name: string; reason: string}) => r.name)).toEqual(['ci-1'])
    expect(reap.json.plan.remove[0].reason).toMatch(/^idle 120m \(last used .*\) > 30m$/)
    expect([...fake.droplets.values()].map(d => d.name)).toEqual(['ci-2'])
  })

  it('dist:check finds a missing token, an open vault file and a stray inventory entry without any network call', async () => {
    const {fake, dir, run} = await setup()
    const ok = await run(['dist:check', '--json'])
    expectJson('dist:check', ok, 0)
    expect(ok.json.checks.every((c: {ok: boolean}) => c.ok)).toBe(true)
    const noToken = await run(['dist:check', '--json'], {DIGITALOCEAN_TOKEN: ''})
    expectJson('dist:check', noToken, 5)
    expect(noToken.json.checks.find((c: {check: string}) => c.check === 'token of do').detail).toContain('DIGITALOCEAN_TOKEN or DIGITALOCEAN_ACCESS_TOKEN is not set')
    await mkdir(path.join(dir, '.local/fleet/vault'), {recursive: true})
    await writeFile(path.join(dir, '.local/fleet/vault/do-token'), fake.token)
    await chmod(path.join(dir, '.local/fleet/vault/do-token'), 0o644)
    await writeFile(path.join(dir, '.local/fleet/inventory'), JSON.stringify({version: 1, fleet: 'e2e', machines: [
      {name: 'old-1', role: 'runner', pool: 'old', provider: 'do', id: '1', address: '192.0.2.1', port: 22, user: 'root', type: 's', region: 'fra1', state: 'running', createdAt: ''}], snapshots: []}))
    const bad = await run(['dist:check', '--json'])
    expectJson('dist:check', bad, 5)
    const failed = Object.fromEntries(bad.json.checks.filter((c: {ok: boolean}) => !c.ok).map((c: {check: string; detail: string}) => [c.check, c.detail]))
    expect(Object.keys(failed).sort()).toEqual(['inventory', 'vault permissions'])
    expect(failed['vault permissions']).toContain('do-token has mode 0644')
    expect(failed.inventory).toContain('pool "old" is not declared')
    expect(fake.requests).toHaveLength(0)

    const noTokenUp = await run(['dist:up', '1', '--yes'], {DIGITALOCEAN_TOKEN: ''})
    expect(noTokenUp.code).toBe(2)
    expect(noTokenUp.stderr).toContain('DIGITALOCEAN_TOKEN or DIGITALOCEAN_ACCESS_TOKEN is not set')
  })
})
