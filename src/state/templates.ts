import {readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'
import {UsageError} from '../errors.js'
import type {Fleet} from '../fleet/load.js'
import {fleetPath} from '../fleet/cloud.js'

const builtin = (file: string) => fileURLToPath(new URL(`../../templates/cloud-init/${file}`, import.meta.url))

/** A cloud-init template: the fleet's own (a path from fleet.yaml) or the one shipped in templates/cloud-init. */
export async function readTemplate(fleet: Fleet, file: string, override?: string): Promise<{name: string; text: string}> {
  const full = override ? fleetPath(fleet, override) : builtin(file)
  try {
    return {name: override ?? `templates/cloud-init/${file}`, text: await readFile(full, 'utf8')}
  } catch (error) {
    throw new UsageError(`cannot read the cloud-init template ${full} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, override ? 'fix the cloud_init: path in fleet.yaml' : 'reinstall fleet')
  }
}
