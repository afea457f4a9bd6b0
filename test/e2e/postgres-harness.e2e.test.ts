import {randomUUID} from 'node:crypto'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {cp, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {projectRoot} from '../helpers/cli.js'
import {startPostgres, usePostgres, type PgDatabase} from '../helpers/postgres.js'

const template = join(projectRoot, 'templates/demo-service')
// a quote and a backslash check the harness's SQL quoting
const a: PgDatabase = {name: 'app_a', user: 'svc_a', password: `a'\\${randomUUID()}`}
const b: PgDatabase = {name: 'app_b', user: 'svc_b', password: `b-${randomUUID()}`}

const server = usePostgres({databases: [a, b]})
let scratch: string
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'fleet-pg-e2e-'))
})
afterAll(async () => {
  await rm(scratch, {recursive: true, force: true})
})

function pgEnv(db: PgDatabase, port = server().port): Record<string, string> {
  return {PATH: process.env.PATH ?? '/usr/bin:/bin', PGHOST: server().host, PGPORT: String(port), PGDATABASE: db.name, PGUSER: db.user, PGPASSWORD: db.password}
}

// run from an unrelated cwd: the scripts find their migrations next to themselves
function script(name: 'migrate.sh' | 'migrate-status.sh', db: PgDatabase, opts: {dir?: string; port?: number} = {}) {
  return execa('sh', [join(opts.dir ?? template, name)], {cwd: tmpdir(), env: pgEnv(db, opts.port), extendEnv: false, reject: false, timeout: 30_000})
}

const tableExists = (db: string, table: string) => server().psql(db, `SELECT to_regclass('${table}') IS NOT NULL`)

/** Samples every /proc/<pid>/cmdline every few ms until stopped. */
function watchCmdlines(secrets: string[]) {
  const result = {samples: 0, scriptPsql: 0, leaks: [] as string[]}
  const tick = () => {
    result.samples++
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let cmdline: string
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
      } catch {
        continue
      }
      if (cmdline.includes('psql') && cmdline.includes('schema_migrations')) result.scriptPsql++
      if (secrets.some((s) => cmdline.includes(s))) result.leaks.push(cmdline)
    }
  }
  const timer = setInterval(tick, 3)
  return {
    result,
    stop() {
      clearInterval(timer)
      tick()
      return result
    },
  }
}

function postgresPids(dataDir: string): number[] {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
  const children = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    const s = stat(pid)
    return s?.ppid === postmaster && s.state !== 'Z'
  })
  return [postmaster, ...children]
}

function stat(pid: number): {state: string; ppid: number} | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return {state, ppid: Number(ppid)}
  } catch {
    return undefined
  }
}

describe('postgres harness and the demo service migrations', () => {
  it('starts one database per entry, each owned by its own password-only role', async () => {
    expect(await server().psql('postgres', `SELECT datname || ':' || pg_get_userbyid(datdba) FROM pg_database WHERE datname LIKE 'app_%' ORDER BY 1`))
      .toBe('app_a:svc_a\napp_b:svc_b')
    const whoami = (env: Record<string, string>) =>
      execa('psql', ['-X', '-w', '-A', '-t', '-c', 'SELECT current_user'], {env, extendEnv: false, reject: false})
    expect((await whoami(pgEnv(a))).stdout).toBe('svc_a')
    expect((await whoami({...pgEnv(a), PGPASSWORD: 'wrong'})).stderr).toContain('password authentication failed')
    expect((await whoami({...pgEnv(b), PGDATABASE: a.name})).stderr).toContain('permission denied for database')
  })

  it('applies 0061 and 0062 to one database, then reports it up to date, leaving the other untouched', async () => {
    expect((await script('migrate-status.sh', a)).stdout).toBe('none')
    const first = await script('migrate.sh', a)
    expect(first).toMatchObject({exitCode: 0, stdout: 'applied 0061\napplied 0062', stderr: ''})
    expect(await server().psql(a.name, `SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'items'`))
      .toBe('id,name,created_at,note')
    expect(await script('migrate-status.sh', a)).toMatchObject({exitCode: 0, stdout: '0062'})
    expect(await script('migrate.sh', a)).toMatchObject({exitCode: 0, stdout: 'up to date', stderr: ''})

    expect(await script('migrate-status.sh', b)).toMatchObject({exitCode: 0, stdout: 'none'})
    expect(await tableExists(b.name, 'schema_migrations')).toBe('f')
  })

  it('rolls back a broken migration as a whole, keeping the earlier ones', async () => {
    const dir = join(scratch, 'release')
    await cp(template, dir, {recursive: true})
    await writeFile(join(dir, 'migrations/0063_broken.sql'), 'CREATE TABLE broken_marker (id int);\nSELECT * FROM no_such_table;\n')

    const onA = await script('migrate.sh', a, {dir})
    expect(onA.exitCode).not.toBe(0)
    expect(onA.stdout).toBe('')
    expect(onA.stderr).toContain('relation "no_such_table" does not exist')
    expect(onA.stderr).toContain('0063_broken.sql failed')
    expect((await script('migrate-status.sh', a)).stdout).toBe('0062')
    expect(await tableExists(a.name, 'broken_marker')).toBe('f')

    const onB = await script('migrate.sh', b, {dir})
    expect(onB.exitCode).not.toBe(0)
    expect(onB.stdout).toBe('applied 0061\napplied 0062')
    expect((await script('migrate-status.sh', b)).stdout).toBe('0062')
    expect(await tableExists(b.name, 'broken_marker')).toBe('f')
    expect(await server().psql(b.name, 'SELECT string_agg(version, \',\' ORDER BY version) FROM schema_migrations')).toBe('0061,0062')
  })

  it('fails migrate-status with a clear message when the database cannot be reached', async () => {
    const probe = await startPostgres({databases: []})
    const closedPort = probe.port
    await probe.stop()
    const r = await script('migrate-status.sh', a, {port: closedPort})
    expect(r.exitCode).not.toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(`migrate-status: cannot connect to database "app_a" at 127.0.0.1:${closedPort}`)
  })

  it('never puts a role password on any command line', async () => {
    const dir = join(scratch, 'release-next')
    await cp(template, dir, {recursive: true})
    await writeFile(join(dir, 'migrations/0063_items_name_index.sql'), 'CREATE INDEX items_name ON items (name);\n')
    const watch = watchCmdlines([a.password, b.password])
    expect(await script('migrate.sh', a, {dir})).toMatchObject({exitCode: 0, stdout: expect.stringMatching(/applied 0063$/)})
    await Promise.all([script('migrate.sh', b, {dir}), script('migrate-status.sh', a), script('migrate-status.sh', b)])
    // more runs until the sampler has caught at least one of the scripts' psql processes
    for (let i = 0; i < 20 && watch.result.scriptPsql === 0; i++) await Promise.all([script('migrate.sh', b), script('migrate-status.sh', a)])
    const seen = watch.stop()
    expect(seen.scriptPsql).toBeGreaterThan(0)
    expect(seen.leaks).toEqual([])
  })

  it('stop() leaves no postgres process of its data dir and removes the dir', async () => {
    const pg = await startPostgres({databases: []})
    const data = join(pg.dir, 'data')
    let pids: number[] = []
    try {
      pids = postgresPids(data)
      expect(pids.length).toBeGreaterThan(1)
      expect(readFileSync(`/proc/${pids[0]}/cmdline`, 'utf8')).toContain(data)
    } finally {
      await pg.stop()
    }
    expect(pids.filter((pid) => (stat(pid)?.state ?? 'Z') !== 'Z')).toEqual([])
    expect(existsSync(pg.dir)).toBe(false)
  })
})
