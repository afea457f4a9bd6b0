import {createHash} from 'node:crypto'
import {chmod, mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {fleet, getJson, ports, processesWith, scratchFleet} from '../helpers/cli.js'
import {watchForLeaks} from '../helpers/canary.js'

const CANARY = 'canary-7f3a9c1e5b2d8f4a'
const sha = (v: string) => createHash('sha256').update(v).digest('hex').slice(0, 16)

const dirs: string[] = []
afterAll(async () => {
  for (const dir of dirs) await fleet(['stop', '--yes', '-f', path.join(dir, 'fleet.yaml')])
})

async function setup(replicas = 2, apply = '') {
  const port = ports(4)
  const dir = await scratchFleet(`version: 1
instances:
  a:
    runtime: local
    release: {source: app}
    services:
      web:
        start: node server.js
        port: ${port}
        replicas: ${replicas}
        health: {grace: 4s, timeout: 1s}
        env: {REQUIRED_SECRETS: "API_KEY,VAULT_TOKEN"}
    secrets:
      API_KEY: {source: generate, length: 40}
      VAULT_TOKEN: {source: vault, name: vault-token${apply ? `, apply: "${apply}"` : ''}}
`, {app: {}})
  dirs.push(dir)
  const vault = path.join(dir, '.local/fleet/vault')
  await mkdir(vault, {recursive: true})
  await writeFile(path.join(vault, 'vault-token'), `${CANARY}\n`, {mode: 0o600})
  return {dir, port, vault, f: ['-f', path.join(dir, 'fleet.yaml')]}
}

const fingerprint = async (port: number, name: string) => (await getJson(`http://127.0.0.1:${port}/secret-fingerprint/${name}`)).body.sha256

describe('rotate-secrets on the local runtime', () => {
  it('rotates every secret with no new release, and the old values are gone afterwards', async () => {
    const {dir, port, vault, f} = await setup()
    const leaks = watchForLeaks([CANARY])
    const deployed = await fleet(['deploy', '--yes', '--json', ...f])
    expect(deployed.code, deployed.stderr).toBe(0)
    expect(await fingerprint(port, 'VAULT_TOKEN')).toBe(sha(CANARY))
    const envFile = path.join(dir, '.local/fleet/local/a/shared/env')
    expect((await stat(envFile)).mode & 0o777).toBe(0o600)
    const oldKey = await fingerprint(port, 'API_KEY')
    const release = (await fleet(['status', '--json', ...f])).json.instances[0].release

    const next = `${CANARY}-next`
    await writeFile(path.join(vault, 'vault-token'), next, {mode: 0o600})
    const rotated = await fleet(['rotate-secrets', '--yes', '--json', ...f])
    expect(rotated.code, rotated.stderr).toBe(0)
    expect(rotated.json.instances).toEqual([{instance: 'a', secrets: ['API_KEY', 'VAULT_TOKEN'], result: 'rotated', targets: ['local']}])
    for (const p of [port, port + 1]) {
      expect(await fingerprint(p, 'VAULT_TOKEN')).toBe(sha(next))
      expect(await fingerprint(p, 'API_KEY')).not.toBe(oldKey)
    }
    const env = await readFile(envFile, 'utf8')
    expect(env).toContain(next)
    expect(env).not.toMatch(new RegExp(`'${CANARY}'`))
    await expect(stat(`${envFile}.old`)).rejects.toThrow()
    expect((await fleet(['status', '--json', ...f])).json.instances[0].release).toBe(release)

    const outputs = [deployed, rotated].flatMap(r => [r.stdout, r.stderr])
    const audit = await readFile(path.join(dir, '.local/fleet/audit.jsonl'), 'utf8')
    expect(await leaks.stop()).toEqual([])
    for (const text of [...outputs, audit]) expect(text).not.toContain(CANARY)
  })

  it('puts the old value back when the services fail their health check on the new one', async () => {
    const {port, vault, f} = await setup(1)
    expect((await fleet(['deploy', '--yes', ...f])).code).toBe(0)
    await writeFile(path.join(vault, 'vault-token'), `pasted with a space`, {mode: 0o600})
    const failed = await fleet(['rotate-secrets', '--secret', 'VAULT_TOKEN', '--yes', '--json', ...f])
    expect(failed.code).toBe(5)
    expect(failed.json.instances[0]).toMatchObject({result: 'restored', secrets: ['VAULT_TOKEN']})
    expect(failed.json.instances[0].error).toContain('failed its health check on the new values')
    expect(failed.stdout + failed.stderr).not.toContain('pasted with a space')
    expect(await fingerprint(port, 'VAULT_TOKEN')).toBe(sha(CANARY))
    expect((await getJson(`http://127.0.0.1:${port}/health`)).status).toBe(200)
  })

  it('changes nothing when the apply step at the secret\'s holder fails', async () => {
    const {dir, port, vault, f} = await setup(1, 'test \\"$FLEET_SECRET_OLD\\" = never || exit 7')
    expect((await fleet(['deploy', '--yes', ...f])).code).toBe(0)
    const pids = await processesWith(dir)
    await writeFile(path.join(vault, 'vault-token'), `${CANARY}-2`, {mode: 0o600})
    const failed = await fleet(['rotate-secrets', '--yes', '--json', ...f])
    expect(failed.code).toBe(5)
    expect(failed.json.instances[0].error).toContain('apply for VAULT_TOKEN exited 7')
    expect(await fingerprint(port, 'VAULT_TOKEN')).toBe(sha(CANARY))
    expect(await processesWith(dir)).toEqual(pids)
  })

  it('refuses a vault file that others can read', async () => {
    const {vault, f} = await setup(1)
    expect((await fleet(['deploy', '--yes', ...f])).code).toBe(0)
    await chmod(path.join(vault, 'vault-token'), 0o644)
    const refused = await fleet(['rotate-secrets', '--yes', ...f])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/vault-token has mode 0644; it must be 0600/)
    expect(refused.stderr).toContain('chmod 600')
  })
})

describe('scale on the local runtime', () => {
  it('starts new replicas health-checked, stops the highest first, and keeps the count in the fleet file', async () => {
    const {port, f, dir} = await setup(1)
    expect((await fleet(['deploy', '--yes', ...f])).code).toBe(0)
    const up = await fleet(['scale', 'a', 'web=3', '--yes', '--json', ...f])
    expect(up.code, up.stderr).toBe(0)
    expect(up.json.plan.targets[0].start.map((r: {index: number}) => r.index)).toEqual([1, 2])
    for (const p of [port, port + 1, port + 2]) expect((await getJson(`http://127.0.0.1:${p}/health`)).status).toBe(200)
    expect(await readFile(path.join(dir, 'fleet.yaml'), 'utf8')).toMatch(/replicas: 3/)
    expect((await fleet(['status', '--json', ...f])).json.instances[0].replicas).toEqual({up: 3, healthy: 3, desired: 3})

    const down = await fleet(['scale', 'a', 'web=1', '--yes', '--json', ...f])
    expect(down.code, down.stderr).toBe(0)
    expect(down.json.plan.targets[0].stop.map((r: {index: number}) => r.index)).toEqual([2, 1])
    await expect(getJson(`http://127.0.0.1:${port + 1}/health`)).rejects.toThrow()
    await expect(getJson(`http://127.0.0.1:${port + 2}/health`)).rejects.toThrow()
    expect((await getJson(`http://127.0.0.1:${port}/health`)).status).toBe(200)
    expect((await fleet(['status', '--json', ...f])).json.instances[0].replicas).toEqual({up: 1, healthy: 1, desired: 1})

    const bad = await fleet(['scale', 'a', 'worker=2', '--yes', ...f])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('instance a has no service "worker"')
  })
})
