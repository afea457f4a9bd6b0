import {cp, mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const bin = path.join(projectRoot, 'bin/run.js')

export interface CliRun {
  code: number
  stdout: string
  stderr: string
  json: any
}

/** Runs the built CLI without a TTY, as CI and scripts do. */
export async function fleet(args: string[], opts: {cwd?: string; env?: Record<string, string>; input?: string} = {}): Promise<CliRun> {
  const r = await execa('node', [bin, ...args], {cwd: opts.cwd ?? projectRoot, reject: false, env: {CI: 'true', NO_COLOR: '1', ...opts.env}, input: opts.input ?? '', timeout: 120_000})
  let json: unknown
  if (args.includes('--json')) {
    try { json = JSON.parse(r.stdout) } catch { json = undefined }
  }
  return {code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, json}
}

/** A scratch directory holding a fleet file and copies of the demo service under the given names. */
export async function scratchFleet(yaml: string, sources: Record<string, {broken?: boolean; marker?: string}> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fleet-e2e-'))
  for (const [name, s] of Object.entries(sources)) await writeSource(dir, name, s)
  await writeFile(path.join(dir, 'fleet.yaml'), yaml)
  return dir
}

/** Copies the demo service; a marker changes its content (and so its version), `broken` makes /health answer 500. */
export async function writeSource(dir: string, name: string, s: {broken?: boolean; marker?: string} = {}): Promise<void> {
  const dest = path.join(dir, name)
  await cp(path.join(projectRoot, 'templates/demo-service'), dest, {recursive: true})
  await writeFile(path.join(dest, 'MARKER'), s.marker ?? 'v1')
  if (s.broken) await writeFile(path.join(dest, 'BROKEN'), '')
}

export async function getJson(url: string): Promise<{status: number; body: any}> {
  const res = await fetch(url, {signal: AbortSignal.timeout(3000)})
  return {status: res.status, body: await res.json().catch(() => undefined)}
}

/** Pids of live processes whose command line or working directory contains `needle` (reads /proc, like ps). */
export async function processesWith(needle: string): Promise<number[]> {
  const {readdir, readFile, readlink} = await import('node:fs/promises')
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '')
      const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ') + ' ' + cwd
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      if (cmd.includes(needle) && !/\) Z /.test(stat)) pids.push(Number(entry))
    } catch { /* gone meanwhile */ }
  }
  return pids
}

// Each test process takes blocks from a random start in 10000-17999: below the sshd harness's 20000-40000 and the
// kernel's ephemeral ports (32768+, where an outgoing connection could hold a service's port), away from the demo's
// 18081+, and unlikely to meet another worker's blocks.
let nextPort = 10_000 + Math.floor(Math.random() * 150) * 50
/** A block of free-ish ports per test, distinct across parallel workers. */
export function ports(n: number): number {
  const p = nextPort
  nextPort += n
  return p
}
