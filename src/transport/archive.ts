import {createHash} from 'node:crypto'
import {readdir, readFile} from 'node:fs/promises'
import path from 'node:path'
import {execa} from 'execa'

const IGNORED = new Set(['node_modules', '.git', '.local'])

/** A content hash of a release source directory: same files, same version. */
export async function hashSource(dir: string): Promise<string> {
  const hash = createHash('sha256')
  const walk = async (rel: string): Promise<void> => {
    const entries = (await readdir(path.join(dir, rel), {withFileTypes: true})).sort((a, b) => a.name.localeCompare(b.name))
    for (const e of entries) {
      if (IGNORED.has(e.name)) continue
      const p = path.join(rel, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) hash.update(p).update('\0').update(await readFile(path.join(dir, p))).update('\0')
    }
  }
  await walk('')
  return hash.digest('hex').slice(0, 12)
}

/** The source directory as a gzipped tar, ready to stream to a target's stdin. */
export async function packSource(dir: string): Promise<Buffer> {
  const r = await execa('tar', ['-czf', '-', '--exclude=node_modules', '--exclude=.git', '-C', dir, '.'], {encoding: 'buffer', stripFinalNewline: false})
  return Buffer.from(r.stdout)
}
