import {readdir, readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {CANARY_PREFIX, watchForLeaks} from './canary.js'

// Runs once around the whole vitest run: samples every process's argv for the canary secrets the e2e tests use,
// and at the end reads every audit log the tests wrote. A leak anywhere fails the run.
let watcher: ReturnType<typeof watchForLeaks> | undefined
const started = Date.now()

export function setup(): void {
  watcher = watchForLeaks([CANARY_PREFIX], 25)
}

export async function teardown(): Promise<void> {
  const leaks = (await watcher?.stop()) ?? []
  const logs = await auditLogsSince(started)
  for (const log of logs) if ((await readFile(log, 'utf8')).includes(CANARY_PREFIX)) leaks.push(`audit log ${log}`)
  process.stderr.write(`canary: ${watcher?.samples()} argv samples over the run, ${logs.length} audit logs read, ${leaks.length} leaks\n`)
  if (leaks.length > 0) throw new Error(`secret values leaked:\n${leaks.join('\n')}`)
}

async function auditLogsSince(since: number): Promise<string[]> {
  const dirs = (await readdir(tmpdir())).filter(d => d.startsWith('fleet-e2e-')).map(d => path.join(tmpdir(), d))
  const logs: string[] = []
  for (const d of dirs) {
    const log = path.join(d, '.local/fleet/audit.jsonl')
    const stat = await import('node:fs/promises').then(fs => fs.stat(log)).catch(() => undefined)
    if (stat && stat.mtimeMs >= since) logs.push(log)
  }
  return logs
}
