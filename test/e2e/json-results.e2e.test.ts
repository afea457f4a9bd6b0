import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {Ajv, type ValidateFunction} from 'ajv'
import addFormats from 'ajv-formats'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {fleet, ports, processesWith, projectRoot, scratchFleet, writeSource, type CliRun} from '../helpers/cli.js'

// Every --json stdout below must match the checked-in schema of its command (schemas/results/<id>.json), so a result
// that drifts from its exported type fails here, not in someone's script.
const ajv = new Ajv({allErrors: true, strict: true})
;((addFormats as unknown as {default?: (a: Ajv) => void}).default ?? (addFormats as unknown as (a: Ajv) => void))(ajv)
const validators = new Map<string, ValidateFunction>()

function validatorFor(id: string): ValidateFunction {
  const file = path.join(projectRoot, 'schemas/results', `${id.replaceAll(':', '-')}.json`)
  if (!existsSync(file)) throw new Error(`${path.relative(projectRoot, file)} is missing; run: node scripts/command-schemas.mjs`)
  if (!validators.has(id)) validators.set(id, ajv.compile(JSON.parse(readFileSync(file, 'utf8'))))
  return validators.get(id)!
}

const validateError = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['code', 'message', 'exitCode'],
  properties: {code: {type: 'string', pattern: '^[A-Z][A-Z0-9_]*$'}, message: {type: 'string', minLength: 1}, hint: {type: 'string'}, exitCode: {type: 'integer'}},
})

const ANSI = /\u001B\[[\d;]*[A-Za-z]/
const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m

/** Parses one --json run and checks it against its command's schema; a failed run's `error` is checked on its own. */
function expectResult(id: string, run: CliRun, exitCode = 0): Record<string, any> {
  expect(run.code, `fleet ${id} exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(exitCode)
  expect(run.stdout, 'ANSI escape codes in --json stdout').not.toMatch(ANSI)
  for (const [name, text] of [['stdout', run.stdout], ['stderr', run.stderr]]) expect(text, `a stack trace on ${name}`).not.toMatch(STACK)
  let json: Record<string, any>
  try {
    json = JSON.parse(run.stdout)
  } catch {
    throw new Error(`fleet ${id} --json printed something that is not one JSON document:\n${run.stdout}`)
  }
  const {error, ...result} = json
  if (exitCode === 0) {
    expect(error, `fleet ${id} succeeded but printed an error`).toBeUndefined()
  } else {
    expect(validateError(error), `error of fleet ${id}: ${ajv.errorsText(validateError.errors)}`).toBe(true)
    expect(error.exitCode).toBe(exitCode)
  }
  const validate = validatorFor(id)
  expect(validate(result), `fleet ${id} --json does not match schemas/results/${id.replaceAll(':', '-')}.json: ${ajv.errorsText(validate.errors, {separator: '\n'})}\n${JSON.stringify(result, null, 2)}`).toBe(true)
  return json
}

describe('--json results match their checked-in schemas (local runtime)', () => {
  let dir: string
  let f: string[]
  const json = async (args: string[]) => fleet([...args, '--json', ...f])

  beforeAll(async () => {
    const [pa, pb] = [ports(4), ports(2)]
    dir = await scratchFleet(`version: 1
instances:
  a:
    runtime: local
    release: {source: src-a}
    services: {web: {start: node server.js, port: ${pa}, replicas: 1, health: {grace: 4s, timeout: 1s}}}
    secrets:
      API_KEY: {source: generate, length: 32}
  b:
    runtime: local
    release: {source: src-b}
    services: {web: {start: node server.js, port: ${pb}, replicas: 1, health: {grace: 4s, timeout: 1s}}}
`, {'src-a': {}, 'src-b': {}})
    f = ['-f', path.join(dir, 'fleet.yaml')]
  })

  afterAll(async () => {
    if (!dir) return
    expect((await fleet(['stop', '--yes', ...f])).code).toBe(0)
    expect(await processesWith(dir)).toEqual([])
  })

  it('validate and plan', async () => {
    expect(expectResult('validate', await json(['validate']))).toMatchObject({valid: true, instances: 2})
    expect(expectResult('plan', await json(['plan'])).changes).toBeGreaterThan(0)
  })

  it('deploy, status, and rollback --dry-run after a second release', async () => {
    const first = expectResult('deploy', await json(['deploy', '--yes']))
    expect(first.targets.map((t: {result: string}) => t.result)).toEqual(['deployed', 'deployed'])
    expect(expectResult('status', await json(['status'])).healthy).toBe(true)

    await writeSource(dir, 'src-a', {marker: 'v2'})
    expectResult('deploy', await json(['deploy', 'a', '--yes']))
    const dry = expectResult('rollback', await json(['rollback', 'a', '--dry-run']))
    expect(dry.dryRun).toBe(true)
    expect(dry.targets).toHaveLength(1)
  })

  it('a deploy that fails its health check exits 5 and prints the result plus an error', async () => {
    await writeSource(dir, 'src-b', {marker: 'v2', broken: true})
    const bad = expectResult('deploy', await json(['deploy', 'b', '--yes']), 5)
    expect(bad.error.code).toBe('FLEET_PARTIAL')
    expect(bad.targets.map((t: {result: string}) => t.result)).toEqual(['failed'])
  })

  it('lock status, acquire and release', async () => {
    expect(expectResult('lock', await json(['lock', 'status'])).lock).toBeNull()
    expect(expectResult('lock', await json(['lock', 'acquire', '--message', 'schema test'])).lock).not.toBeNull()
    expect(expectResult('lock', await json(['lock', 'release', '--yes'])).released).not.toBeNull()
  })

  it('exec, migrate --status without migrations, scale --dry-run, rotate-secrets --dry-run', async () => {
    const exec = expectResult('exec', await fleet(['exec', '--json', ...f, '--', 'echo', 'hello']))
    expect(exec.hosts.map((h: {stdout: string}) => h.stdout.trim())).toEqual(['hello'])
    expect(expectResult('migrate', await json(['migrate', '--status'])).instances).toEqual([])
    const scale = expectResult('scale', await json(['scale', 'a', 'web=3', '--dry-run']))
    expect(scale.plan.changes).toEqual([expect.objectContaining({service: 'web', from: 1, to: 3})])
    expect(expectResult('rotate-secrets', await json(['rotate-secrets', '--dry-run'])).dryRun).toBe(true)
  })

  it('stop, start, and the audit trail of all of it', async () => {
    expect(expectResult('stop', await json(['stop', '--yes'])).ok).toBe(true)
    expect(expectResult('start', await json(['start', '--yes'])).ok).toBe(true)
    const audit = expectResult('audit', await json(['audit', '--limit', '50']))
    expect(audit.records.map((r: {command: string}) => r.command)).toEqual(expect.arrayContaining(['deploy', 'lock', 'stop', 'start']))
  })
})
