import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import Ajv2020 from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {jsonSchema} from '../../../src/fleet/schema.js'

const schemaFile = fileURLToPath(new URL('../../../schemas/fleet.schema.json', import.meta.url))
const valid = fileURLToPath(new URL('../../fixtures/valid/', import.meta.url))
const demo = fileURLToPath(new URL('../../../fleet.yaml', import.meta.url))
// The same text `fleet schema > schemas/fleet.schema.json` prints. UPDATE_SCHEMA=1 rewrites the checked-in copy.
const generated = JSON.stringify(jsonSchema(), null, 2) + '\n'
if (process.env.UPDATE_SCHEMA === '1') writeFileSync(schemaFile, generated)

describe('schemas/fleet.schema.json', () => {
  const checkedIn = readFileSync(schemaFile, 'utf8')
  const schema = JSON.parse(checkedIn) as {$schema: string}
  const ajv = new Ajv2020.default({strict: false, allErrors: true})
  addFormats.default(ajv)
  const validate = ajv.compile(schema)

  it('is what jsonSchema() generates (run the tests with UPDATE_SCHEMA=1 after changing schema.ts)', () => {
    expect(checkedIn).toBe(generated)
  })

  it('is a draft 2020-12 schema', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
  })

  it.each([...readdirSync(valid).filter(f => f.endsWith('.yaml')).map(f => valid + f), demo])('accepts %s', file => {
    validate(parse(readFileSync(file, 'utf8')))
    expect(validate.errors ?? []).toEqual([])
  })

  it.each([
    ['an unknown key', {version: 1, instance: {}}],
    ['a wrong version', {version: 2}],
    ['a string replica count', {version: 1, instances: {web: {runtime: 'local', release: {source: '.'}, services: {web: {start: 'x', port: 1, replicas: 'three'}}}}}],
    ['an invalid name', {version: 1, hosts: {Web_1: {provider: 'lab'}}}],
    ['a literal token', {version: 1, providers: {hz: {type: 'hetzner', token: 'hc_123'}}}],
  ])('rejects %s, as the loader does', (_, doc) => {
    expect(validate(doc)).toBe(false)
  })
})
