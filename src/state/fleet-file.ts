import {readFile, rename, writeFile} from 'node:fs/promises'
import {parseDocument} from 'yaml'

/** Sets values in the fleet file in place, keeping its comments and layout, so the file stays the source of truth. */
export async function updateFleetFile(file: string, edits: {path: (string | number)[]; value: unknown}[]): Promise<void> {
  const doc = parseDocument(await readFile(file, 'utf8'))
  for (const e of edits) doc.setIn(e.path, e.value)
  await writeFile(`${file}.tmp`, doc.toString())
  await rename(`${file}.tmp`, file)
}
