import {describe, expect, it} from 'vitest'
import {checkedFakes, cloudScratch, expectExit, expectJson} from '../helpers/cloud-fleet.js'
import {startFakeDigitalOcean, type FakeDigitalOcean} from '../helpers/fake-digitalocean.js'
import {startFakeHetzner, type FakeHetzner} from '../helpers/fake-hetzner.js'
import {type SshTestbed, useSshHosts} from '../helpers/sshd.js'

const testbed = useSshHosts({count: 3})
const trackDo = checkedFakes<FakeDigitalOcean>()
const trackHetzner = checkedFakes<FakeHetzner>()

// web-1 is host1, web-2 host2 and so on: every machine the fakes create answers ssh for real.
const byName = (tb: SshTestbed) => (name: string) => tb.hosts[(Number(/\d+$/.exec(name)?.[0] ?? 1) - 1) % tb.hosts.length].address

function hostsYaml(tb: SshTestbed, provider: string, names: string[], machine: string): string {
  return names.map(n => `  ${n}: {provider: ${provider}, ${machine}, user: ${tb.user}, port: ${tb.hosts[0].port}, identity: ${tb.clientKey}}`).join('\n')
}

async function setupDo() {
  const tb = testbed()
  const fake = trackDo(await startFakeDigitalOcean({addressPool: byName(tb), actionPolls: 0}))
  const scratch = await cloudScratch(`version: 1
name: e2e
providers:
  do: {type: digitalocean, endpoint: "${fake.endpoint}"}
  lab: {type: ssh}
ssh:
  known_hosts: ${tb.knownHostsFile}
  config: ${tb.sshConfigFile}
  public_key: ${tb.clientKey}.pub
hosts:
${hostsYaml(tb, 'do', ['web-1', 'web-2', 'web-3'], 'type: s-1vcpu-1gb, region: fra1, image: ubuntu-24-04-x64')}
  db-1: {provider: lab, address: 192.0.2.10}
`, {DIGITALOCEAN_TOKEN: fake.token})
  return {...scratch, fake, tb}
}

/** A droplet someone else made, with the name of one of the fleet's hosts but none of its labels. */
async function strangerDroplet(fake: FakeDigitalOcean, name: string): Promise<number> {
  const res = await fetch(`${fake.endpoint}/v2/droplets`, {method: 'POST', headers: {authorization: `Bearer ${fake.token}`, 'content-type': 'application/json'},
    body: JSON.stringify({name, size: 's-1vcpu-1gb', region: 'fra1', image: 'ubuntu-24-04-x64', tags: ['team:other']})})
  expect(res.status).toBe(202)
  return ((await res.json()) as {droplet: {id: number}}).droplet.id
}

describe('provision / decommission / machines', () => {
  it('creates labeled DigitalOcean hosts, lists them, and deletes only what carries this fleet\'s labels', async () => {
    const {fake, run, inventory, state, tb} = await setupDo()
    const stranger = await strangerDroplet(fake, 'web-3')

    const refused = await run(['provision', 'web-3', '--yes'])
    expectExit(refused, 2)
    expect(refused.stderr).toContain(`do already has a machine named web-3 (id ${stranger}, team=other) that is not this fleet's`)
    const notCloud = await run(['provision', 'db-1', '--yes'])
    expectExit(notCloud, 2)
    expect(notCloud.stderr).toContain('provider lab cannot create host db-1')

    const up = await run(['provision', 'web-1', 'web-2', '--yes', '--json'])
    expectJson('provision', up, 0)
    expect(up.json.hosts.map((h: {host: string; result: string; address: string}) => [h.host, h.result, h.address])).toEqual([
      ['web-1', 'created', tb.hosts[0].address], ['web-2', 'created', tb.hosts[1].address]])
    const web1 = [...fake.droplets.values()].find(d => d.name === 'web-1')!
    expect(web1.tags.sort()).toEqual(['fleet-host:web-1', 'fleet:e2e'])
    expect((await inventory()).machines.map((m: {name: string; role: string; address: string}) => [m.name, m.role, m.address])).toEqual([
      ['web-1', 'host', tb.hosts[0].address], ['web-2', 'host', tb.hosts[1].address]])
    expect(await state('ssh_config')).toContain(`Host web-2\n  HostName ${tb.hosts[1].address}`)
    const again = await run(['provision', 'web-1', '--yes', '--json'])
    expectJson('provision', again, 0)
    expect(again.json.plan.changes).toBe(0)

    const machines = await run(['machines', '--json'])
    expectJson('machines', machines, 0)
    expect(machines.json.fleet).toBe('e2e')
    expect(machines.json.machines.map((m: {name: string; state: string; type?: string; region?: string; address?: string}) => [m.name, m.state, m.type, m.region, m.address])).toEqual([
      ['web-1', 'running', 's-1vcpu-1gb', 'fra1', tb.hosts[0].address], ['web-2', 'running', 's-1vcpu-1gb', 'fra1', tb.hosts[1].address], ['web-3', 'absent', 's-1vcpu-1gb', 'fra1', undefined]])

    const foreign = await run(['decommission', 'web-3', '--yes'])
    expectExit(foreign, 2)
    expect(foreign.stderr).toContain(`refusing to decommission web-3: the machine named web-3 on do (id ${stranger}) is not this fleet's`)
    const noYes = await run(['decommission', 'web-1'])
    expectExit(noYes, 2)
    expect(noYes.stderr).toContain('refusing to decommission web-1 without --yes')
    expectExit(await run(['decommission', 'web-1', '--dry-run']), 0)
    expect(fake.droplets.has(stranger) && fake.droplets.has(web1.id)).toBe(true)

    const gone = await run(['decommission', 'web-1', '--yes', '--json'])
    expectJson('decommission', gone, 0)
    expect(gone.json.deleted).toBe(true)
    expect([...fake.droplets.values()].map(d => d.name).sort()).toEqual(['web-2', 'web-3'])
    expect((await inventory()).machines.map((m: {name: string}) => m.name)).toEqual(['web-2'])
    expect(fake.requests.filter(r => r.method === 'DELETE').map(r => r.path)).toEqual([`/v2/droplets/${web1.id}`])
  })

  it('provisions a Hetzner host with HCLOUD_TOKEN; without the token it names the variable', async () => {
    const tb = testbed()
    const fake = trackHetzner(await startFakeHetzner({addressPool: byName(tb), actionPolls: 0}))
    const {run, inventory} = await cloudScratch(`version: 1
name: e2e
providers:
  hz: {type: hetzner, endpoint: "${fake.endpoint}"}
ssh:
  known_hosts: ${tb.knownHostsFile}
  public_key: ${tb.clientKey}.pub
hosts:
${hostsYaml(tb, 'hz', ['app-3'], 'type: cx22, region: fsn1, image: ubuntu-24.04')}
`, {HCLOUD_TOKEN: fake.token})
    const missing = await run(['provision', '--yes'], {HCLOUD_TOKEN: ''})
    expectExit(missing, 2)
    expect(missing.stderr).toContain('provider hz (hetzner) needs an API token: HCLOUD_TOKEN is not set')
    const up = await run(['provision', '--yes', '--json'])
    expectJson('provision', up, 0)
    expect(up.json.hosts).toMatchObject([{host: 'app-3', result: 'created', address: tb.hosts[2].address}])
    expect([...fake.servers.values()].map(s => [s.name, s.labels])).toEqual([['app-3', {fleet: 'e2e', 'fleet-host': 'app-3'}]])
    expect((await inventory()).machines[0]).toMatchObject({name: 'app-3', provider: 'hz', type: 'cx22', region: 'fsn1'})
    expectExit(await run(['decommission', 'app-3', '--yes']), 0)
    expect(fake.servers.size).toBe(0)
  })
})
