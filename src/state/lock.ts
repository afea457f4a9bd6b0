import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {hostname, userInfo} from 'node:os'
import path from 'node:path'
import {LockError} from '../errors.js'

export interface LockInfo {
  who: string
  host: string
  pid: number
  command: string
  since: string
  note?: string
}

const lockFile = (stateDir: string) => path.join(stateDir, 'lock.json')

export async function readLock(stateDir: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(lockFile(stateDir), 'utf8')) as LockInfo
  } catch {
    return undefined
  }
}

/** A lock whose process is gone on this machine is stale; a lock from another machine is never presumed stale. */
export function isStale(lock: LockInfo): boolean {
  if (lock.host !== hostname() || lock.pid === 0) return false
  try {
    process.kill(lock.pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

export function describeLock(l: LockInfo): string {
  return `${l.who}@${l.host} since ${l.since} (${l.command}${l.note ? `: ${l.note}` : ''})`
}

/** Takes the fleet lock atomically (O_EXCL); a stale lock is replaced and reported through `warn`. */
export async function acquireLock(stateDir: string, command: string, opts: {pid?: number; note?: string; warn?: (m: string) => void} = {}): Promise<LockInfo> {
  await mkdir(stateDir, {recursive: true})
  const info: LockInfo = {who: userInfo().username, host: hostname(), pid: opts.pid ?? process.pid, command, since: new Date().toISOString(), note: opts.note}
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockFile(stateDir), JSON.stringify(info) + '\n', {flag: 'wx', mode: 0o644})
      return info
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const held = await readLock(stateDir)
      if (held && !isStale(held)) {
        throw new LockError(`the fleet is locked by ${describeLock(held)}`, 'wait for that command to finish, or run "fleet lock release --yes" if it is gone')
      }
      opts.warn?.(`removed a stale lock left by ${held ? describeLock(held) : 'an unreadable lock file'}`)
      await rm(lockFile(stateDir), {force: true})
    }
  }
  throw new LockError('could not take the fleet lock', 'run the command again')
}

/** Releases the lock only if `pid` holds it (or unconditionally when forced). */
export async function releaseLock(stateDir: string, opts: {pid?: number; force?: boolean} = {}): Promise<LockInfo | undefined> {
  const held = await readLock(stateDir)
  if (!held) return undefined
  if (!opts.force && held.pid !== (opts.pid ?? process.pid)) return undefined
  await rm(lockFile(stateDir), {force: true})
  return held
}
