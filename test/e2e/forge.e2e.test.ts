import path from 'node:path'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {checkedFakes, cloudScratch, expectExit, expectJson} from '../helpers/cloud-fleet.js'
import {startFakeDigitalOcean, type FakeDigitalOcean} from '../helpers/fake-digitalocean.js'
import {useSshHosts} from '../helpers/sshd.js'

// Every forge droplet gets the address of a real sshd, so the banner wait and the written ssh config are exercised for real.
const testbed = useSshHosts({count: 1})
const track = checkedFakes<FakeDigitalOcean>()

async function setup(keep = 1) {
  const tb = testbed()
  const h = tb.hosts[0]
  const fake = track(await startFakeDigitalOcean({addressPool: () => h.address, actionPolls: 0}))
  const scratch = await cloudScratch(`version: 1
name: e2e
providers:
  do: {type: digitalocean, endpoint: "${fake.endpoint}"}
ssh:
  known_hosts: ${tb.knownHostsFile}
  config: ${tb.sshConfigFile}
  public_key: ${tb.clientKey}.pub
forge:
  provider: do
  name: forge
  size: s-2vcpu-4gb
  region: fra1
  image: ubuntu-24-04-x64
  alias: git.e2e
  user: ${tb.user}
  port: ${h.port}
  identity: ${tb.clientKey}
  keep: ${keep}
`, {DIGITALOCEAN_TOKEN: fake.token})
  return {...scratch, fake, tb}
}

const droplets = (fake: FakeDigitalOcean) => [...fake.droplets.values()]
const snapshots = (fake: FakeDigitalOcean) => [...fake.snapshots.values()]

describe('forge on DigitalOcean (fake API, real sshd)', () => {
  it('creates the forge with cloud-init, parks it as a snapshot, and restores it from that snapshot', async () => {
    const {fake, run, state, dir, tb} = await setup()
    const up = await run(['forge:up', '--yes', '--json'])
    expectJson('forge:up', up, 0)
    expect(up.json.plan.action).toBe('create')
    expect(up.json.forge).toMatchObject({result: 'created', state: 'running', address: tb.hosts[0].address})
    expect(droplets(fake).map(d => [d.name, d.image, d.tags.sort()])).toEqual([['forge', 'ubuntu-24-04-x64', ['fleet-forge:forge', 'fleet:e2e']]])
    const config = await state('ssh_config')
    expect(config).toContain(`Host git.e2e\n  HostName ${tb.hosts[0].address}\n  User ${tb.user}\n  Port ${tb.hosts[0].port}\n  IdentityFile ${tb.clientKey}`)
    // The include works with the real OpenSSH client: the alias reaches the forge's sshd.
    const ssh = await execa('ssh', ['-F', path.join(dir, '.local/fleet/ssh_config'), '-o', 'BatchMode=yes', '-o', 'IdentityAgent=none', 'git.e2e', 'echo', 'forge-ok'], {reject: false})
    expect(ssh.stdout, ssh.stderr).toBe('forge-ok')

    const status = await run(['forge:status', '--json'])
    expectJson('forge:status', status, 0)
    expect(status.json).toMatchObject({state: 'up', address: tb.hosts[0].address, alias: 'git.e2e', snapshots: [], monthly: {up: 24, currency: 'USD'}})

    const down = await run(['forge:down', '--yes', '--json'])
    expectJson('forge:down', down, 0)
    expect(down.json.forge).toMatchObject({result: 'parked', state: 'parked'})
    expect(droplets(fake)).toEqual([])
    const [snap] = snapshots(fake)
    expect(snap.name).toMatch(/^forge-\d{8}-\d{6}$/)
    expect(snap.tags.sort()).toEqual(['fleet-forge:forge', 'fleet:e2e'])
    expect(await state('ssh_config')).not.toContain('Host git.e2e')
    const parked = await run(['forge:status', '--json'])
    expect(parked.json).toMatchObject({state: 'parked', snapshots: [{name: snap.name}]})
    expect(parked.json.monthly.parked).toBeGreaterThan(0)
    expect(parked.json.monthly.up).toBeGreaterThan(parked.json.monthly.parked)

    const again = await run(['forge:up', '--yes', '--json'])
    expectJson('forge:up', again, 0)
    expect(again.json.plan.action).toBe('restore')
    expect(again.json.forge).toMatchObject({result: 'restored', snapshot: {name: snap.name}})
    expect(droplets(fake).map(d => d.image)).toEqual([snap.id])
    expect(await state('ssh_config')).toContain('Host git.e2e')
    expect((await run(['forge:up', '--yes', '--json'])).json.plan.action).toBe('none')
  })

  it('a failed snapshot leaves the forge running and says so; the next park deletes snapshots beyond keep', async () => {
    const {fake, run, inventory} = await setup(1)
    expectExit(await run(['forge:up', '--yes']), 0)
    expectExit(await run(['forge:down', '--yes']), 0)
    const [first] = snapshots(fake)
    expectExit(await run(['forge:up', '--yes']), 0)
    const forgeId = droplets(fake)[0].id

    fake.failSnapshot()
    const failed = await run(['forge:down', '--yes'])
    expectExit(failed, 5)
    expect(failed.stderr).toMatch(/nothing was destroyed, the forge is still running at 127\.0\.0\.2/)
    expect(droplets(fake).map(d => d.id)).toEqual([forgeId])
    expect(snapshots(fake).map(s => s.id)).toEqual([first.id])
    expect((await inventory()).machines.map((m: {role: string; id: string}) => [m.role, m.id])).toEqual([['forge', String(forgeId)]])

    const down = await run(['forge:down', '--yes', '--json'])
    expectJson('forge:down', down, 0)
    expect(down.json.forge.pruned).toEqual([first.name])
    expect(droplets(fake)).toEqual([])
    expect(snapshots(fake).map(s => s.name)).toEqual([down.json.forge.snapshot.name])
    expect((await inventory()).snapshots.map((s: {name: string}) => s.name)).toEqual([down.json.forge.snapshot.name])
  })
})
