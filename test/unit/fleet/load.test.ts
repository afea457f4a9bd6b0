import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {FleetConfigError, formatProblem} from '../../../src/errors.js'
import {loadFleet, parseFleet} from '../../../src/fleet/load.js'

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url))
const invalid = `${fixtures}invalid/`
const expectedFile = `${invalid}expected.json`
// UPDATE_FLEET_FIXTURES=1 rewrites expected.json from the loader's output: read every changed line before keeping it.
const update = process.env.UPDATE_FLEET_FIXTURES === '1'

const yamlFiles = (dir: string) => readdirSync(dir).filter(f => f.endsWith('.yaml')).sort()
const read = (file: string) => readFileSync(file, 'utf8')

function configError(text: string, name = 'fleet.yaml'): FleetConfigError {
  try {
    parseFleet(text, `/fleets/${name}`, name)
  } catch (error) {
    if (error instanceof FleetConfigError) return error
    throw error
  }
  throw new Error(`${name} parsed without a problem`)
}

const lines = (e: FleetConfigError) => e.problems.flatMap(p => formatProblem(p).split('\n'))

describe('invalid fleet files', () => {
  const expected: Record<string, string[]> = update ? {} : JSON.parse(read(expectedFile))

  it('has an expectation for every fixture and a fixture for every expectation', () => {
    if (update) return
    expect(Object.keys(expected).sort()).toEqual(yamlFiles(invalid))
  })

  it.each(yamlFiles(invalid))('%s', name => {
    const error = configError(read(invalid + name), name)
    expect(error.code).toBe('FLEET_CONFIG')
    expect(error.exitCode).toBe(3)
    expect(error.oclif.exit).toBe(3)
    expect(error.message).toBe(error.problems.map(formatProblem).join('\n'))
    for (const p of error.problems) expect(formatProblem(p)).not.toMatch(/Invalid input|object Object|undefined|Unrecognized|received/)
    if (update) expected[name] = lines(error)
    else expect(lines(error)).toEqual(expected[name])
  })

  if (update) it('writes expected.json', () => writeFileSync(expectedFile, JSON.stringify(expected, null, 2) + '\n'))
})

describe('valid fleet files', () => {
  const valid = `${fixtures}valid/`
  it.each(yamlFiles(valid))('%s parses', name => {
    const fleet = parseFleet(read(valid + name), `/fleets/${name}`)
    expect(fleet.spec.version).toBe(1)
    expect(Object.keys(fleet.spec.instances).length + Object.keys(fleet.spec.pools ?? {}).length).toBeGreaterThan(0)
  })

  it("parses the repository's own demo fleet.yaml, with defaults filled in", () => {
    const file = fileURLToPath(new URL('../../../fleet.yaml', import.meta.url))
    const fleet = parseFleet(read(file), file)
    expect(fleet.file).toBe(file)
    expect(fleet.stateDir).toMatch(/\.local\/fleet$/)
    expect(Object.keys(fleet.spec.instances)).toEqual(['eu', 'us'])
    expect(fleet.spec.instances.eu.services.web).toMatchObject({port: 18081, replicas: 2, health: {path: '/health', timeout: '2s', grace: '10s', expect: 200, interval: '200ms'}})
    expect(fleet.spec.instances.eu.release.keep).toBe(5)
    expect(fleet.spec.providers).toEqual({})
  })

  it('maps paths back to lines and columns', () => {
    const file = fileURLToPath(new URL('../../../fleet.yaml', import.meta.url))
    const text = read(file)
    const {source} = parseFleet(text, file)
    const at = source.locate(['instances', 'eu', 'services', 'web', 'port'])
    expect(text.split('\n')[at.line - 1].slice(at.col - 1)).toBe('18081')
  })
})

describe('error mapping', () => {
  const base = (service: string) => `version: 1
instances:
  web:
    runtime: local
    release: {source: ./app}
    services:
      web:
${service}`

  it('reports the example from the style guide at the offending value', () => {
    const [p] = configError(base('        start: node server.js\n        port: 8080\n        replicas: three\n')).problems
    expect(formatProblem(p)).toBe('fleet.yaml:10:19 instances.web.services.web.replicas: expected an integer, got "three"\n  hint: e.g. replicas: 3')
  })

  it('reports every problem in one pass, sorted by line and column', () => {
    const e = configError(`version: 3
instances:
  web:
    runtime: docker
    release: {}
    services:
      web: {port: 0, start: "", replicas: -1}
`)
    expect(e.problems.map(p => [p.line, p.col, p.path])).toEqual([
      [1, 10, 'version'],
      [4, 14, 'instances.web.runtime'],
      [5, 5, 'instances.web.release'],
      [7, 19, 'instances.web.services.web.port'],
      [7, 29, 'instances.web.services.web.start'],
      [7, 43, 'instances.web.services.web.replicas'],
    ])
    for (const p of e.problems) expect(p.hint).toMatch(/^(e\.g\.|did you mean)/)
  })

  it('suggests the key that was meant', () => {
    const e = configError(base('        start: node server.js\n        port: 8080\n        replica: 2\n        helth: {path: /health}\n'))
    expect(e.problems.map(p => [p.message, p.hint])).toEqual([
      ['unknown key "replica"', 'did you mean "replicas"?'],
      ['unknown key "helth"', 'did you mean "health"?'],
    ])
  })

  it('lists the allowed keys when nothing is close', () => {
    const [p] = configError(base('        start: node server.js\n        port: 8080\n        memory: 512m\n')).problems
    expect(p.hint).toBe('allowed here: start, port, replicas, health, env')
  })

  it('suggests the enum value that was meant', () => {
    const [p] = configError('version: 1\nproviders:\n  hz: {type: hetzer}\n').problems
    expect(formatProblem(p)).toBe('fleet.yaml:3:14 providers.hz.type: expected one of local, ssh, hetzner, digitalocean, aws-ecs, railway, got "hetzer"\n  hint: did you mean "hetzner"?')
  })

  it('never repeats a literal token in the message', () => {
    const e = configError('version: 1\nproviders:\n  hz:\n    type: hetzner\n    token: hc_0123456789abcdef\n')
    expect(e.message).not.toContain('hc_0123456789abcdef')
    expect(e.problems[0].message).toContain('got a literal value (not shown)')
  })

  it('skips cross-field rules for entries the schema already rejected', () => {
    const e = configError('version: 1\nproviders:\n  lab: {type: ssh}\nhosts:\n  web-1: {provider: Lab, address: 192.0.2.1}\n')
    expect(e.problems.map(p => p.message)).toEqual(['expected a name of lowercase letters, digits and dashes, got "Lab"'])
  })

  it('reports a missing file as a config problem', async () => {
    const error = await loadFleet(`${fixtures}does-not-exist.yaml`, 'fleet.yaml').catch((error: unknown) => error)
    expect(error).toBeInstanceOf(FleetConfigError)
    expect((error as FleetConfigError).message).toBe('fleet.yaml:1:1 (root): file not found\n  hint: pass --file PATH, or run fleet from the directory that holds fleet.yaml')
  })

  it('gives each problem the file name it was given to display', () => {
    const e = configError('version: 2\n', 'fleets/prod.yaml')
    expect(e.problems[0].file).toBe('fleets/prod.yaml')
  })
})
