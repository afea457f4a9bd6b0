import {existsSync, readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {Ajv} from 'ajv'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {projectRoot} from '../helpers/cli.js'

const script = path.join(projectRoot, 'scripts/command-schemas.mjs')
const resultsDir = path.join(projectRoot, 'schemas/results')

describe('checked-in command schemas (schemas/results/*.json, schemas/commands.json)', () => {
  it('match the result types in src/commands and the flags in the built manifest', async () => {
    if (!existsSync(path.join(projectRoot, 'oclif.manifest.json'))) {
      throw new Error('oclif.manifest.json is missing: run npm run build first (npm test does), the flag snapshot is read from it')
    }
    const r = await execa('node', [script, '--check'], {cwd: projectRoot, reject: false, timeout: 30_000})
    expect(r.exitCode, `${r.stdout}\n${r.stderr}\nrun: node scripts/command-schemas.mjs`).toBe(0)
  }, 30_000)

  it('are draft-07 schemas that compile, one per command that returns a result', () => {
    const snapshot = JSON.parse(readFileSync(path.join(projectRoot, 'schemas/commands.json'), 'utf8'))
    const ajv = new Ajv({strict: true, allErrors: true})
    const expected = Object.keys(snapshot.commands).map(id => `${id.replaceAll(':', '-')}.json`)
    for (const file of readdirSync(resultsDir)) {
      const schema = JSON.parse(readFileSync(path.join(resultsDir, file), 'utf8'))
      expect(schema.$schema, file).toBe('http://json-schema.org/draft-07/schema#')
      expect(() => ajv.compile(schema), file).not.toThrow()
      expect(expected, 'a result schema without a command').toContain(file)
    }
  })
})
