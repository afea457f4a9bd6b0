import {createHash} from 'node:crypto'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {statSync} from 'node:fs'
import path from 'node:path'
import type {FleetSpec} from '../fleet/schema.js'

/**
 * Validated fleet specs by content: a fleet file that validated before is not parsed and validated again, which keeps
 * yaml and zod off the start-up path of every `fleet status`. The key covers the file's bytes and the schema build.
 */
export function specKey(text: string): string {
  const schema = statSync(new URL('../fleet/schema.js', import.meta.url))
  return createHash('sha256').update(text).update(`\0${schema.size}:${schema.mtimeMs}`).digest('hex').slice(0, 32)
}

const cacheFile = (stateDir: string, key: string) => path.join(stateDir, 'cache', `spec-${key}.json`)

export async function readCachedSpec(stateDir: string, key: string): Promise<FleetSpec | undefined> {
  try {
    return JSON.parse(await readFile(cacheFile(stateDir, key), 'utf8')) as FleetSpec
  } catch {
    return undefined
  }
}

export async function writeCachedSpec(stateDir: string, key: string, spec: FleetSpec): Promise<void> {
  try {
    await mkdir(path.join(stateDir, 'cache'), {recursive: true})
    await writeFile(cacheFile(stateDir, key), JSON.stringify(spec))
  } catch {
    // a read-only checkout still works, only slower
  }
}
