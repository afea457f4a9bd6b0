import {mkdir, readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {watchForLeaks} from '../helpers/canary.js'
import {fleet, getJson, ports, scratchFleet} from '../helpers/cli.js'
import {startPostgres, type PgServer} from '../helpers/postgres.js'

const PW = {a: 'canary-pg-a-3b8e0d2f', b: 'canary-pg-b-9c4a1e7d'}
let pg: PgServer
let dir: string
let f: string[]
let port: {a: number; b: number}

const instance = (name: 'a' | 'b', p: number) => `
  ${name}:
    runtime: local
    release: {source: src-${name}}
    env: {PGHOST: 127.0.0.1, PGPORT: ${pg.port}, PGDATABASE: db_${name}, PGUSER: user_${name}}
    services: {web: {start: node server.js, port: ${p}, health: {grace: 4s, timeout: 1s}}}
    migrate: {command: sh migrate.sh, status: sh migrate-status.sh}
    secrets:
      PGPASSWORD:
        source: vault
        name: ${name}-db-password
        apply: printf "ALTER ROLE %s PASSWORD '%s'" "$PGUSER" "$FLEET_SECRET_NEW" | psql -w -q -v ON_ERROR_STOP=1`

beforeAll(async () => {
  pg = await startPostgres({databases: [{name: 'db_a', user: 'user_a', password: PW.a}, {name: 'db_b', user: 'user_b', password: PW.b}]})
  port = {a: ports(1), b: ports(1)}
  dir = await scratchFleet(`version: 1\ninstances:${instance('a', port.a)}${instance('b', port.b)}\n`, {'src-a': {}, 'src-b': {}})
  await mkdir(path.join(dir, '.local/fleet/vault'), {recursive: true})
  for (const n of ['a', 'b'] as const) await writeFile(path.join(dir, `.local/fleet/vault/${n}-db-password`), PW[n], {mode: 0o600})
  f = ['-f', path.join(dir, 'fleet.yaml')]
})

afterAll(async () => {
  await fleet(['stop', '--yes', ...f])
  await pg?.stop()
})

const applied = async () => Object.fromEntries((await fleet(['migrate', '--status', '--json', ...f])).json.instances.map((r: {instance: string; applied: string}) => [r.instance, r.applied]))
const addMigration = (name: string, file: string, sql: string) => writeFile(path.join(dir, `src-${name}/migrations/${file}`), sql)

describe('migrations against a real PostgreSQL', () => {
  it('runs each instance\'s migrations during its first deploy, and migrate --status reads them back from the database', async () => {
    const r = await fleet(['deploy', '--yes', '--json', ...f])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.plan.instances.map((i: {migrateOn: string}) => i.migrateOn)).toEqual(['local', 'local'])
    expect(await applied()).toEqual({a: '0062', b: '0062'})
    expect(await pg.psql('db_a', 'select count(*) from schema_migrations')).toBe('2')
    const table = await fleet(['migrate', '--status', ...f])
    expect(table.stdout).toMatch(/│ a\s+│ local\s+│ 0062/)
  })

  it('applies a new migration before traffic moves, and only on the instance whose release has it', async () => {
    await addMigration('a', '0063_add_items_tag.sql', 'ALTER TABLE items ADD COLUMN tag text;\n')
    const plan = await fleet(['plan', ...f])
    expect(plan.stdout).toContain('a: migration runs once on local')
    expect(plan.stdout).toContain('backward compatible')
    const r = await fleet(['deploy', '--yes', '--json', ...f])
    expect(r.code, r.stderr).toBe(0)
    expect(await applied()).toEqual({a: '0063', b: '0062'})
  })

  it('a failing migration stops that instance before anything switches: the old release keeps serving', async () => {
    const before = (await getJson(`http://127.0.0.1:${port.a}/health`)).body.version
    await addMigration('a', '0064_broken.sql', 'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n')
    const r = await fleet(['deploy', '--yes', '--json', ...f])
    expect(r.code).toBe(5)
    expect(r.json.targets.find((t: {instance: string}) => t.instance === 'a')).toMatchObject({result: 'failed', switched: false})
    expect(r.json.error.message).toContain('migration failed')
    expect(r.json.error.message).toContain('no_such_table')
    expect((await getJson(`http://127.0.0.1:${port.a}/health`)).body.version).toBe(before)
    expect(await applied()).toEqual({a: '0063', b: '0062'})
    expect(await pg.psql('db_a', "select to_regclass('half_done') is null")).toBe('t')
  })

  it('fleet migrate runs pending migrations of the current release on its own', async () => {
    await pg.psql('db_b', "delete from schema_migrations where version = '0062'; alter table items drop column note")
    expect(await applied()).toEqual({a: '0063', b: '0061'})
    const r = await fleet(['migrate', 'b', '--yes', '--json', ...f])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.instances[0]).toMatchObject({instance: 'b', result: 'migrated', output: 'applied 0062', applied: '0062'})
    expect(await pg.psql('db_b', "select count(*) from information_schema.columns where table_name = 'items' and column_name = 'note'")).toBe('1')
  })

  it('rotates a database password at the database first, and the old password stops working', async () => {
    const next = 'canary-pg-a-next-5d1f'
    await writeFile(path.join(dir, '.local/fleet/vault/a-db-password'), next, {mode: 0o600})
    const leaks = watchForLeaks([PW.a, next])
    const r = await fleet(['rotate-secrets', 'a', '--yes', '--json', ...f])
    const leaked = await leaks.stop()
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.instances[0]).toMatchObject({result: 'rotated', secrets: ['PGPASSWORD']})
    expect(leaked).toEqual([])
    expect(await applied()).toEqual({a: '0063', b: '0062'})
    const login = (password: string) => execa('psql', ['-w', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'user_a', '-d', 'db_a', '-tAc', 'select 1'], {env: {PGPASSWORD: password}, reject: false})
    expect((await login(next)).stdout).toBe('1')
    expect((await login(PW.a)).exitCode).not.toBe(0)
    const audit = await readFile(path.join(dir, '.local/fleet/audit.jsonl'), 'utf8')
    for (const text of [r.stdout, r.stderr, audit]) {
      expect(text).not.toContain(next)
      expect(text).not.toContain(PW.a)
    }
  })
})
