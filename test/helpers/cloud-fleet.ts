import {readFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {Ajv, type ValidateFunction} from 'ajv'
import addFormats from 'ajv-formats'
import {afterEach, expect} from 'vitest'
import {type CliRun, fleet, projectRoot, scratchFleet} from './cli.js'
import type {SshTestbed} from './sshd.js'
import {startFakeDigitalOcean, type FakeDigitalOcean, type FakeDigitalOceanOptions} from './fake-digitalocean.js'

export interface CloudScratch {
  dir: string
  /** The built CLI on this scratch fleet (FLEET_FILE), with the provider token in its environment. */
  run(args: string[], env?: Record<string, string>): Promise<CliRun>
  /** .local/fleet/inventory, parsed. */
  inventory(): Promise<any>
  /** A file under .local/fleet. */
  state(file: string): Promise<string>
}

export async function cloudScratch(yaml: string, env: Record<string, string>): Promise<CloudScratch> {
  const dir = await scratchFleet(yaml)
  const base = {...env, FLEET_FILE: path.join(dir, 'fleet.yaml')}
  const state = (file: string) => readFile(path.join(dir, '.local/fleet', file), 'utf8')
  return {dir, run: (args, more = {}) => fleet(args, {cwd: dir, env: {...base, ...more}}), inventory: async () => JSON.parse(await state('inventory')), state}
}

/** Closes every fake API a test started and fails the test when one saw a request its spec forbids. */
export function checkedFakes<F extends {violations: string[]; close(): Promise<void>}>(): (fake: F) => F {
  const fakes: F[] = []
  afterEach(async () => {
    for (const fake of fakes.splice(0)) {
      const violations = [...fake.violations]
      await fake.close()
      expect(violations).toEqual([])
    }
  })
  return fake => (fakes.push(fake), fake)
}

/** Asserts the exit code, showing both streams when it is not the expected one. */
export function expectExit(r: CliRun, code: number): void {
  expect(r.code, `exit ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`).toBe(code)
}

const ajv = new Ajv({allErrors: true, strict: true})
;((addFormats as unknown as {default?: (a: Ajv) => void}).default ?? (addFormats as unknown as (a: Ajv) => void))(ajv)
const validators = new Map<string, ValidateFunction>()

/**
 * Asserts the exit code and that the --json result (without its `error`) matches the checked-in
 * schemas/results/<id>.json; a run refused before it had a result (exit 2, 3, 4) carries only the error.
 */
export function expectJson(id: string, r: CliRun, code = 0): any {
  expectExit(r, code)
  expect(r.json, `fleet ${id} --json printed no JSON document:\n${r.stdout}`).toBeDefined()
  if (!validators.has(id)) validators.set(id, ajv.compile(JSON.parse(readFileSync(path.join(projectRoot, 'schemas/results', `${id.replaceAll(':', '-')}.json`), 'utf8'))))
  const validate = validators.get(id)!
  const {error, ...result} = r.json
  expect(code === 0 ? error : error?.exitCode, `fleet ${id}: unexpected error member`).toBe(code === 0 ? undefined : code)
  if (code !== 0 && code !== 5) return r.json
  expect(validate(result), `fleet ${id} --json does not match its schema: ${ajv.errorsText(validate.errors)}`).toBe(true)
  return r.json
}

/** A fleet with one pool `ci` on the fake DigitalOcean whose runners are the testbed's sshd hosts. */
export async function poolScratch(tb: SshTestbed, fake: {endpoint: string; token: string}, pool: Record<string, string | number> = {}): Promise<CloudScratch> {
  const poolYaml = Object.entries({provider: 'do', size: 's-1vcpu-1gb', region: 'fra1', image: 'ubuntu-24-04-x64', max: 6, tag: 'ci:runner',
    user: tb.user, port: tb.hosts[0].port, identity: tb.clientKey, ...pool}).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`).join('\n')
  return cloudScratch(`version: 1
name: e2e
providers:
  do: {type: digitalocean, endpoint: "${fake.endpoint}"}
ssh:
  known_hosts: ${tb.knownHostsFile}
  config: ${tb.sshConfigFile}
  public_key: ${tb.clientKey}.pub
  connect_timeout: 5s
pools:
  ci:
${poolYaml}
`, {DIGITALOCEAN_TOKEN: fake.token})
}

/**
 * A pool fleet on a fresh fake DigitalOcean whose droplets get the testbed's addresses, so every runner it "creates" is
 * a real sshd on 127.0.0.x. The fake is closed (and its spec violations checked) after the test by `track`.
 */
export async function poolOnFakeDigitalOcean(tb: SshTestbed, track: (f: FakeDigitalOcean) => FakeDigitalOcean, opts: FakeDigitalOceanOptions = {}, pool: Record<string, string | number> = {}) {
  const fake = track(await startFakeDigitalOcean({addressPool: tb.hosts.map(h => h.address), actionPolls: 0, ...opts}))
  return {...(await poolScratch(tb, fake, pool)), fake, tb}
}

export const dropletPosts = (fake: FakeDigitalOcean) => fake.requests.filter(r => r.method === 'POST' && r.path === '/v2/droplets')
