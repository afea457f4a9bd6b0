import {existsSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {appendFile, chown, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa, type Options} from 'execa'
import {afterAll, beforeAll} from 'vitest'

const PG_ROOT = '/usr/lib/postgresql'
const SUPERUSER = 'postgres'

export interface PgDatabase {
  name: string
  user: string
  password: string
}

export interface PgServer {
  host: '127.0.0.1'
  port: number
  /** The temp dir holding data/, socket/ and postgres.log; removed by stop(). */
  dir: string
  /** Runs `sql` (sent on stdin) in `db` as the superuser over the unix socket; unaligned tuples, trimmed. */
  psql(db: string, sql: string): Promise<string>
  /** Stops exactly this server and removes its dir. */
  stop(): Promise<void>
}

/** A throwaway PostgreSQL on 127.0.0.1 with one role (password, scram-sha-256) and database per entry. */
export async function startPostgres(opts: {databases: PgDatabase[]}): Promise<PgServer> {
  const bin = postgresBinDir()
  // postgres refuses to run as root, so root hands the cluster to the postgres system user
  const owner = process.getuid?.() === 0 ? systemUser('postgres') : undefined
  const dir = await mkdtemp(join(tmpdir(), 'fleet-pg-'))
  const data = join(dir, 'data')
  const socketDir = join(dir, 'socket')
  const logFile = join(dir, 'postgres.log')
  await mkdir(socketDir, {mode: 0o700})
  if (owner) await Promise.all([dir, socketDir].map((d) => chown(d, owner.uid, owner.gid)))

  const execOpts: Options = {cwd: dir, timeout: 30_000, stdin: 'ignore'}
  const pg = (cmd: string, args: string[]) =>
    owner ? execa('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], execOpts) : execa(join(bin, cmd), args, execOpts)
  const safety = () => killNow(data, dir)
  process.once('exit', safety)
  const server: PgServer = {
    host: '127.0.0.1',
    port: 0,
    dir,
    async psql(db, sql) {
      const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-p', String(server.port), '-U', SUPERUSER, '-d', db]
      const {stdout} = await execa(join(bin, 'psql'), args, {input: sql, timeout: 30_000})
      return stdout.trim()
    },
    async stop() {
      process.removeListener('exit', safety)
      await pg('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '10'])
        .catch(() => pg('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '10']))
        .catch(() => undefined)
      await rm(dir, {recursive: true, force: true})
    },
  }

  try {
    await pg('initdb', ['-D', data, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'])
    // the superuser only through the private socket; every TCP login needs its password
    await writeFile(join(data, 'pg_hba.conf'), `local all ${SUPERUSER} trust\nhost all all 127.0.0.1/32 scram-sha-256\n`)
    await appendFile(join(data, 'postgresql.conf'), [
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${socketDir}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'max_connections = 30',
      'shared_buffers = 16MB',
      '',
    ].join('\n'))
    for (let attempt = 1; ; attempt++) {
      server.port = await freePort()
      const started = await pg('pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '10', '-o', `-p ${server.port}`]).then(() => true, () => false)
      if (started) break
      const log = await readFile(logFile, 'utf8').catch(() => '')
      // another process took the port between freePort() and the bind
      if (attempt >= 5 || !/could not (bind|create any TCP\/IP)/.test(log)) throw new Error(`postgres did not start:\n${log.slice(-2000)}`)
    }
    await execa(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(server.port), '-t', '5'])

    const roles = new Map(opts.databases.map((d) => [d.user, d.password]))
    await server.psql('postgres', [
      ...[...roles].map(([user, password]) => `CREATE ROLE ${ident(user)} LOGIN PASSWORD ${literal(password)};`),
      ...opts.databases.map((d) => `CREATE DATABASE ${ident(d.name)} OWNER ${ident(d.user)};\nREVOKE ALL ON DATABASE ${ident(d.name)} FROM PUBLIC;`),
      '',
    ].join('\n'))
  } catch (error) {
    await server.stop()
    throw error
  }
  return server
}

/** Registers beforeAll/afterAll for one server per test file; call the returned function inside tests. */
export function usePostgres(opts: {databases: PgDatabase[]}): () => PgServer {
  let server: PgServer | undefined
  beforeAll(async () => {
    server = await startPostgres(opts)
  })
  afterAll(async () => {
    await server?.stop()
  })
  return () => {
    if (!server) throw new Error('postgres is not running (beforeAll failed?)')
    return server
  }
}

/** The newest /usr/lib/postgresql/<version>/bin that has initdb. */
export function postgresBinDir(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT).filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
    : []
  if (versions.length === 0) throw new Error(`no ${PG_ROOT}/*/bin/initdb; install the postgresql package`)
  versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
  return join(PG_ROOT, versions[0], 'bin')
}

function systemUser(name: string): {uid: number; gid: number} {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`))
  if (!line) throw new Error(`the ${name} system user is missing; install the postgresql package`)
  const [, , uid, gid] = line.split(':')
  return {uid: Number(uid), gid: Number(gid)}
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address() as {port: number}
      srv.close(() => resolve(port))
    })
  })
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

// the exit handler must be synchronous: SIGQUIT makes the postmaster stop its children at once
function killNow(data: string, dir: string): void {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(data)) process.kill(pid, 'SIGQUIT')
  } catch {}
  rmSync(dir, {recursive: true, force: true})
}
