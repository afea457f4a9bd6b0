#!/usr/bin/env node
// Writes the contract of every command's --json output and command line:
//   schemas/results/<command-id>.json  JSON Schema (draft-07) of the result type each src/commands file exports
//   schemas/commands.json              flags and args of every command, from the oclif manifest of the build
// `--check` writes nothing and exits 1 naming what changed, so CI catches a breaking change (the sf pattern).
import {existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const started = performance.now()
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const check = process.argv.includes('--check')
const commandsDir = path.join(root, 'src/commands')
const manifestFile = path.join(root, 'oclif.manifest.json')
const resultsDir = 'schemas/results'
const snapshotFile = 'schemas/commands.json'
const INFER_FAILED = 'Failed to correctly infer type'

function main() {
  const commands = findCommands()
  const manifest = readManifest(commands)
  const {schemas, notices, problems} = resultSchemas(commands)
  const resultFile = id => `${resultsDir}/${id.replaceAll(':', '-')}.json`
  const expected = new Map([[snapshotFile, stringify(commandSnapshot(manifest))]])
  for (const [id, schema] of schemas) expected.set(resultFile(id), stringify(schema))
  // A schema that failed to generate stays as it is: the error below says why, and deleting it would hide that.
  const kept = new Set([...problems.keys()].map(resultFile))
  const stale = existsSync(path.join(root, resultsDir))
    ? readdirSync(path.join(root, resultsDir)).filter(f => f.endsWith('.json')).map(f => `${resultsDir}/${f}`).filter(f => !expected.has(f) && !kept.has(f))
    : []

  for (const n of notices) process.stderr.write(`notice: ${n}\n`)
  for (const p of problems.values()) process.stderr.write(`error: ${p}\n`)
  const took = `${((performance.now() - started) / 1000).toFixed(1)} s`

  if (check) {
    const report = []
    for (const [file, text] of expected) {
      const current = readText(file)
      if (current === undefined) report.push(`${file}: missing`)
      else if (current !== text) report.push(`${file}: changed`, ...describeChanges(file, current, text).map(l => `    ${l}`))
    }
    for (const file of stale) report.push(`${file}: no longer generated (its command is gone or exports no result type)`)
    if (report.length === 0 && problems.size === 0) {
      process.stdout.write(`command schemas are up to date (${schemas.size} result schemas, ${Object.keys(manifest.commands).length} commands; ${took})\n`)
      return 0
    }
    if (report.length) process.stdout.write(`command schemas are stale:\n${report.map(l => `  ${l}`).join('\n')}\nrun: node scripts/command-schemas.mjs (and commit the result; a change here can break scripts that parse --json or pass flags)\n`)
    return 1
  }

  mkdirSync(path.join(root, resultsDir), {recursive: true})
  let written = 0
  for (const [file, text] of expected) {
    if (readText(file) === text) continue
    writeFileSync(path.join(root, file), text)
    written++
  }
  for (const file of stale) rmSync(path.join(root, file))
  process.stdout.write(`${written} written, ${expected.size - written} unchanged, ${stale.length} removed (${schemas.size} result schemas, ${Object.keys(manifest.commands).length} commands; ${took})\n`)
  return problems.size ? 1 : 0
}

function readText(file) {
  try {
    return readFileSync(path.join(root, file), 'utf8')
  } catch {
    return undefined
  }
}

// Mirrors oclif's command discovery: the path under src/commands is the id, index files name their folder.
function findCommands() {
  return readdirSync(commandsDir, {recursive: true})
    .map(f => f.split(path.sep).join('/'))
    .filter(f => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts') && !f.split('/').some(part => part.startsWith('_')))
    .map(f => ({id: f.replace(/\.ts$/, '').replace(/(^|\/)index$/, '').replaceAll('/', ':'), file: path.join(commandsDir, f)}))
    .filter(c => c.id !== '')
    .sort((a, b) => a.id.localeCompare(b.id))
}

function readManifest(commands) {
  if (!existsSync(manifestFile)) throw new Error('oclif.manifest.json not found: run npm run build (it writes the manifest this snapshot is read from)')
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'))
  const built = Object.keys(manifest.commands ?? {})
  const src = commands.map(c => c.id)
  const notBuilt = src.filter(id => !built.includes(id))
  const gone = built.filter(id => !src.includes(id))
  if (notBuilt.length || gone.length) {
    throw new Error(`oclif.manifest.json does not match src/commands (${[notBuilt.length && `not built: ${notBuilt.join(', ')}`, gone.length && `no longer in src: ${gone.join(', ')}`].filter(Boolean).join('; ')}): run npm run build`)
  }
  const builtAt = statSync(manifestFile).mtimeMs
  const newer = [path.join(root, 'src/base-command.ts'), ...commands.map(c => c.file)].filter(f => existsSync(f) && statSync(f).mtimeMs > builtAt)
  if (newer.length) throw new Error(`oclif.manifest.json is older than ${newer.map(f => path.relative(root, f)).join(', ')}: run npm run build`)
  return manifest
}

// --- flag and arg snapshot -------------------------------------------------------------------------------------------

function commandSnapshot(manifest) {
  const commands = {}
  for (const [id, c] of Object.entries(manifest.commands)) {
    const flags = {}
    for (const [name, f] of Object.entries(c.flags ?? {})) {
      flags[name] = {
        type: f.type,
        char: f.char ?? null,
        multiple: Boolean(f.multiple),
        required: Boolean(f.required),
        default: f.default ?? null,
        options: f.options ?? null,
        ...(f.type === 'boolean' ? {allowNo: Boolean(f.allowNo)} : {}),
        ...pick(f, ['env', 'aliases', 'charAliases', 'exclusive', 'dependsOn', 'exactlyOne', 'hidden', 'deprecated']),
      }
    }
    // Args are positional: their order is part of the interface, so they stay a list.
    const args = Object.values(c.args ?? {}).map(a => ({name: a.name, required: Boolean(a.required), default: a.default ?? null, options: a.options ?? null}))
    commands[id] = {summary: c.summary ?? null, strict: c.strict !== false, enableJsonFlag: Boolean(c.enableJsonFlag), aliases: c.aliases ?? [], args, flags}
  }
  return {$comment: 'generated by scripts/command-schemas.mjs from oclif.manifest.json; do not edit', commands}
}

function pick(o, keys) {
  return Object.fromEntries(keys.filter(k => o[k] !== undefined && !(Array.isArray(o[k]) && o[k].length === 0)).map(k => [k, o[k]]))
}

// --- result schemas ---------------------------------------------------------------------------------------------------

function resultSchemas(commands) {
  // The generator bundles its own TypeScript; its syntax kinds differ from other versions', so use only that one.
  const tsj = require('ts-json-schema-generator')
  const {ts} = tsj
  const config = {...tsj.DEFAULT_CONFIG, skipTypeCheck: true, functions: 'comment'}
  const notices = []
  const problems = new Map()
  const schemas = new Map()

  const tsconfig = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, {...ts.sys, onUnRecoverableConfigFileDiagnostic: d => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')) }})
  const options = {...tsconfig.options, noEmit: true, declaration: false, outDir: undefined}
  const rootNames = commands.map(c => c.file)

  // Result types are plain data declared in src/, so the fast program reads no package or Node typings: parsing those
  // is most of the time. Anything that then fails to resolve is regenerated with the full program, and still checked.
  const fastOptions = {...options, lib: ['lib.es2022.d.ts'], types: []}
  const fastHost = ts.createCompilerHost(fastOptions)
  const cache = ts.createModuleResolutionCache(root, f => f, fastOptions)
  fastHost.resolveModuleNameLiterals = (literals, containing, redirected, opts, file) =>
    literals.map(l => (/^[./]/.test(l.text) ? ts.resolveModuleName(l.text, containing, opts, fastHost, cache, redirected, ts.getModeForUsageLocation(file, l, opts)) : {resolvedModule: undefined}))
  const programs = {fast: () => ts.createProgram({rootNames, options: fastOptions, host: fastHost}), full: () => ts.createProgram({rootNames, options})}
  const made = {}
  const open = kind => {
    if (made[kind]) return made[kind]
    const program = programs[kind]()
    return (made[kind] = {program, checker: program.getTypeChecker(), generator: new tsj.SchemaGenerator(program, tsj.createParser(program, config), tsj.createFormatter(config), config)})
  }

  let pending = commands
  for (const kind of ['fast', 'full']) {
    if (pending.length === 0) break
    const {program, checker, generator} = open(kind)
    const retry = []
    for (const command of pending) {
      const rel = path.relative(root, command.file)
      const found = resultDeclaration(ts, checker, program.getSourceFile(command.file), command.id)
      if (typeof found === 'string') {
        notices.push(`${command.id} (${rel}): ${found}; no result schema`)
        continue
      }
      const {name, declaration} = found
      const type = checker.getTypeAtLocation(declaration)
      const hazards = jsonHazards(ts, program, checker, type, name)
      if (hazards.unresolved && kind === 'fast') {
        retry.push(command)
        continue
      }
      if (hazards.list.length) {
        problems.set(command.id, `${command.id}: ${name} in ${rel} has no faithful JSON Schema:\n${hazards.list.map(h => `  ${h}`).join('\n')}`)
        continue
      }
      let schema
      let why
      try {
        schema = generator.createSchemaFromNodes([declaration])
        expandUninferred(ts, program, checker, schema, name, type)
        const left = findString(schema, INFER_FAILED)
        if (left.length) why = `the generator cannot infer ${left.join(', ')}; declare that shape as a named interface`
      } catch (error) {
        why = String(error.message).split('\n')[0]
      }
      if (!why) schemas.set(command.id, {$comment: `generated by scripts/command-schemas.mjs from ${name} in ${rel}; do not edit`, ...schema})
      else if (kind === 'fast') retry.push(command)
      else problems.set(command.id, `${command.id}: ${name} in ${rel}: ${why}`)
    }
    pending = retry
  }
  return {schemas, notices, problems}
}

function pascal(id) {
  return id.split(/[:-]/).map(w => w.charAt(0).toUpperCase() + w.slice(1)).join('')
}

function resultDeclaration(ts, checker, sourceFile, id) {
  const moduleSymbol = sourceFile && checker.getSymbolAtLocation(sourceFile)
  if (!moduleSymbol) return 'cannot be read'
  const expected = `${pascal(id)}Result`
  const results = checker.getExportsOfModule(moduleSymbol).filter(s => s.name.endsWith('Result'))
  const chosen = results.find(s => s.name === expected) ?? (results.length === 1 ? results[0] : undefined)
  if (!chosen) return results.length ? `exports ${results.map(s => s.name).join(', ')} but not ${expected}` : `exports no *Result type (expected ${expected})`
  const symbol = chosen.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(chosen) : chosen
  const declaration = symbol.declarations?.find(d => ts.isInterfaceDeclaration(d) || ts.isTypeAliasDeclaration(d) || ts.isEnumDeclaration(d))
  if (!declaration) return `${chosen.name} is not an interface or a type alias`
  return {name: chosen.name, declaration}
}

// What a declared type says and what JSON.stringify prints differ for these; the schema would describe the former.
const NOT_JSON = {
  Map: 'a Map (prints as {})', Set: 'a Set (prints as {})', WeakMap: 'a WeakMap (prints as {})', WeakSet: 'a WeakSet (prints as {})',
  Promise: 'a Promise (prints as {})', RegExp: 'a RegExp (prints as {})', Error: 'an Error (prints as {}: message and stack are not enumerable)',
  Buffer: 'a Buffer (prints as {type, data})', ArrayBuffer: 'an ArrayBuffer (prints as {})', Uint8Array: 'a typed array (prints as an object of indices)',
}

function jsonHazards(ts, program, checker, rootType, rootName) {
  const list = []
  let unresolved = false
  const seen = new Set()
  const visit = (type, where, depth) => {
    if (depth > 40 || list.length >= 10) return
    if (type.flags & ts.TypeFlags.Any && type.intrinsicName === 'error') {
      unresolved = true
      list.push(`${where}: a type that does not resolve`)
      return
    }
    if (type.flags & ts.TypeFlags.BigIntLike) return list.push(`${where}: a bigint (JSON.stringify throws)`)
    if (type.flags & ts.TypeFlags.ESSymbolLike) return list.push(`${where}: a symbol (dropped by JSON.stringify)`)
    if (type.isUnionOrIntersection()) return type.types.forEach(t => visit(t, where, depth + 1))
    if (!(type.flags & ts.TypeFlags.Object) || seen.has(type)) return
    seen.add(type)
    if (type.getCallSignatures().length || type.getConstructSignatures().length) return list.push(`${where}: a function (dropped by JSON.stringify)`)
    const symbol = type.getSymbol()
    const declarations = symbol?.declarations ?? []
    const fromLib = declarations.some(d => program.isSourceFileDefaultLibrary(d.getSourceFile()))
    if (symbol?.name === 'Date' && fromLib) return
    if (symbol && NOT_JSON[symbol.name]) return list.push(`${where}: ${NOT_JSON[symbol.name]}`)
    if (declarations.some(d => ts.isClassDeclaration(d) || ts.isClassExpression(d))) return list.push(`${where}: an instance of class ${symbol.name} (what it prints depends on its fields and toJSON, not its declared type)`)
    if (checker.isArrayType(type) || checker.isTupleType(type)) return checker.getTypeArguments(type).forEach(t => visit(t, `${where}[]`, depth + 1))
    for (const info of checker.getIndexInfosOfType(type)) visit(info.type, `${where}[key]`, depth + 1)
    for (const property of checker.getPropertiesOfType(type)) {
      if (property.name === 'toJSON') list.push(`${where}: has toJSON (prints something other than its declared shape)`)
      else visit(checker.getTypeOfSymbol(property), `${where}.${property.name}`, depth + 1)
    }
  }
  visit(rootType, rootName, 0)
  return {list, unresolved}
}

// The generator reads type syntax and cannot evaluate e.g. `ReturnType<typeof summarizeExec>`. For such a property of
// the result type the checker knows the shape; printed as a type literal that needs no imports, it becomes the schema.
function expandUninferred(ts, program, checker, schema, rootName, rootType) {
  let definition = schema.definitions?.[rootName]
  while (definition?.$ref?.startsWith('#/definitions/')) definition = schema.definitions[decodeURIComponent(definition.$ref.slice(14))]
  const properties = definition?.properties ?? {}
  const targets = Object.keys(properties).filter(p => findString(properties[p], INFER_FAILED).length)
  if (targets.length === 0) return
  const files = new Map()
  for (const [i, p] of targets.entries()) {
    const property = checker.getPropertyOfType(rootType, p)
    if (!property) continue
    const text = checker.typeToString(checker.getTypeOfSymbol(property), undefined, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias)
    files.set(p, {file: path.join(root, `src/__expand_${i}__.ts`), alias: `Expand${i}`, text: `export type Expand${i} = ${text}\n`})
  }
  const options = {...program.getCompilerOptions(), types: []}
  const host = ts.createCompilerHost(options)
  const virtual = new Map([...files.values()].map(v => [v.file, v.text]))
  const getSourceFile = host.getSourceFile
  host.getSourceFile = (f, ...rest) => (virtual.has(f) ? ts.createSourceFile(f, virtual.get(f), ts.ScriptTarget.Latest, true) : program.getSourceFile(f) ?? getSourceFile(f, ...rest))
  host.fileExists = f => virtual.has(f) || ts.sys.fileExists(f)
  host.readFile = f => virtual.get(f) ?? ts.sys.readFile(f)
  const mini = ts.createProgram({rootNames: [...virtual.keys()], options, host})
  const tsj = require('ts-json-schema-generator')
  const config = {...tsj.DEFAULT_CONFIG, skipTypeCheck: true, functions: 'fail'}
  const generator = new tsj.SchemaGenerator(mini, tsj.createParser(mini, config), tsj.createFormatter(config), config)
  for (const [p, v] of files) {
    const sourceFile = mini.getSourceFile(v.file)
    if (mini.getSemanticDiagnostics(sourceFile).length) continue
    const expanded = generator.createSchemaFromNodes([sourceFile.statements[0]])
    const {[v.alias]: own, ...rest} = expanded.definitions
    if (Object.keys(rest).length) continue
    const description = properties[p].description === INFER_FAILED ? undefined : properties[p].description
    properties[p] = {...own, ...(description ? {description} : {})}
  }
}

function findString(value, needle, where = '') {
  if (typeof value === 'string') return value.includes(needle) ? [where || '(root)'] : []
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([k, v]) => findString(v, needle, where ? `${where}.${k}` : k))
}

// --- output and diff --------------------------------------------------------------------------------------------------

// Object keys are unordered in JSON Schema and in the snapshot, and `required`/`enum` are sets: sort them so a
// reordering in source is not a diff. Every other array (args, options, anyOf) keeps its order.
function canonical(value, key) {
  if (Array.isArray(value)) {
    const items = value.map(v => canonical(v))
    return key === 'required' || key === 'enum' ? items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : items
  }
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.keys(value).sort().map(k => [k, canonical(value[k], k)]))
}

function stringify(value) {
  return `${JSON.stringify(canonical(value), null, 2)}\n`
}

function describeChanges(file, currentText, nextText) {
  let current
  try {
    current = JSON.parse(currentText)
  } catch {
    return ['the checked-in file is not valid JSON']
  }
  const next = JSON.parse(nextText)
  const changes = []
  diff(current, next, [], changes)
  if (changes.length === 0) return ['formatting only']
  const lines = changes.map(c => (file === snapshotFile ? describeCommandChange(c) : describeSchemaChange(c)))
  return lines.length > 20 ? [...lines.slice(0, 20), `... and ${lines.length - 20} more`] : lines
}

function diff(a, b, at, out) {
  if (JSON.stringify(a) === JSON.stringify(b)) return
  const bothObjects = [a, b].every(v => v !== null && typeof v === 'object' && !Array.isArray(v))
  const sameLengthArrays = Array.isArray(a) && Array.isArray(b) && a.length === b.length
  if (bothObjects) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!(k in a)) out.push({at: [...at, k], kind: 'added', to: b[k]})
      else if (!(k in b)) out.push({at: [...at, k], kind: 'removed', from: a[k]})
      else diff(a[k], b[k], [...at, k], out)
    }
  } else if (sameLengthArrays && a.every(v => v !== null && typeof v === 'object')) {
    a.forEach((v, i) => diff(v, b[i], [...at, i], out))
  } else out.push({at, kind: 'changed', from: a, to: b})
}

function show(value) {
  const text = JSON.stringify(value)
  return text.length > 70 ? `${text.slice(0, 67)}...` : text
}

function change(c, subject) {
  if (c.kind === 'added') return `${subject}: added${typeof c.to === 'object' && c.to !== null ? '' : ` (${show(c.to)})`}`
  if (c.kind === 'removed') return `${subject}: removed`
  return `${subject}: ${show(c.from)} -> ${show(c.to)}`
}

function describeCommandChange(c) {
  const [top, id, part, name, ...rest] = c.at
  if (top !== 'commands' || id === undefined) return change(c, c.at.join('.') || '(file)')
  if (part === undefined) return change(c, `command ${id}`)
  if (part === 'flags' && name !== undefined) return change(c, `${id}: flag --${name}${rest.length ? ` ${rest.join('.')}` : ''}`)
  if (part === 'args' && typeof name === 'number') return change(c, `${id}: arg #${name + 1}${rest.length ? ` ${rest.join('.')}` : ''}`)
  return change(c, `${id}: ${[part, name, ...rest].filter(s => s !== undefined).join('.')}`)
}

function describeSchemaChange(c) {
  const parts = []
  for (let i = 0; i < c.at.length; i++) {
    const s = c.at[i]
    if (s === 'definitions' || s === 'properties') continue
    if (s === 'items') parts.push('[]')
    else parts.push(parts.length && parts.at(-1) !== '[]' ? `.${s}` : String(s))
  }
  return change(c, parts.join('') || '(schema)')
}

try {
  process.exitCode = main()
} catch (error) {
  process.stderr.write(`command-schemas: ${error.message}\n`)
  process.exitCode = 2
}
