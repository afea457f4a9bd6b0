import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {Document, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node} from 'yaml'
import type {z} from 'zod'
import {type ConfigProblem, FleetConfigError} from '../errors.js'
import {checkReferences} from './references.js'
import {fleetSchema, type FleetSpec} from './schema.js'
import {hintFor, suggest} from './hints.js'

export interface Fleet {
  /** Absolute path of the fleet file. */
  file: string
  dir: string
  /** Where locks, the audit log, inventories and local releases live: `.local/fleet` beside the file. */
  stateDir: string
  spec: FleetSpec
}

type Path = (string | number)[]

/** Where each path of the document sits, so later checks (plans, providers) can point at the file too. */
export interface SourceMap {
  locate(p: Path): {line: number; col: number}
}

export async function loadFleet(file: string, displayName = file): Promise<Fleet & {source: SourceMap}> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new FleetConfigError([{file: displayName, line: 1, col: 1, path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code})`, hint: 'pass --file PATH, or run fleet from the directory that holds fleet.yaml'}])
  }
  return parseFleet(text, file, displayName)
}

export function parseFleet(text: string, file: string, displayName = file): Fleet & {source: SourceMap} {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true})
  const at = (offset: number) => lineCounter.linePos(offset)
  const problem = (offset: number, p: Omit<ConfigProblem, 'file' | 'line' | 'col'>): ConfigProblem => ({file: displayName, ...at(offset), ...p})

  const syntax = [...doc.errors, ...doc.warnings].map(e => problem(e.pos[0], {path: pathAtOffset(doc, e.pos[0]), message: yamlMessage(e.code, e.message), hint: yamlHint(e.code)}))
  if (doc.errors.length > 0) throw new FleetConfigError(sortProblems(syntax))

  const source: SourceMap = {locate: p => at(offsetOf(doc, p, false))}
  const raw = doc.toJS() ?? {}
  const parsed = fleetSchema.safeParse(raw, {reportInput: true})
  const problems = parsed.success ? [] : parsed.error.issues.flatMap(i => describeIssue(doc, i))
  if (parsed.success) problems.push(...checkReferences(parsed.data).map(r => ({...r, offset: offsetOf(doc, r.path, r.atKey ?? false)})))
  if (problems.length > 0) {
    throw new FleetConfigError(sortProblems(problems.map(({offset, path: p, message, hint}) => problem(offset, {path: p.join('.'), message, hint}))))
  }

  const abs = path.resolve(file)
  const dir = path.dirname(abs)
  return {file: abs, dir, stateDir: path.join(dir, '.local', 'fleet'), spec: parsed.data!, source}
}

interface Located {offset: number; path: Path; message: string; hint?: string}

function describeIssue(doc: Document, issue: z.core.$ZodIssue): Located[] {
  const p = issue.path as Path
  const value = valueAt(doc, p)
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(issue)
    return issue.keys.map(key => ({
      offset: offsetOf(doc, [...p, key], true),
      path: [...p, key],
      message: `unknown key "${key}"`,
      hint: suggest(key, allowed) ?? (allowed.length > 0 ? `allowed here: ${allowed.join(', ')}` : undefined),
    }))
  }
  const missing = value === undefined
  return [{
    offset: offsetOf(doc, p, false),
    path: p,
    message: missing ? `missing required key "${p.at(-1)}"` : `${expectation(issue)}, got ${show(value)}`,
    hint: hintFor(p, issue),
  }]
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': return `expected ${article(issue.expected)}`
    case 'invalid_value': return issue.values.length === 1 ? `expected ${JSON.stringify(issue.values[0])}` : `expected one of ${issue.values.map(v => JSON.stringify(v)).join(', ')}`
    case 'too_small': return `expected ${issue.origin === 'array' ? 'at least ' + issue.minimum + ' item(s)' : issue.origin === 'string' ? 'a non-empty string' : `a value >= ${issue.minimum}`}`
    case 'too_big': return `expected ${issue.origin === 'array' ? 'at most ' + issue.maximum + ' item(s)' : `a value <= ${issue.maximum}`}`
    case 'invalid_format': return issue.message.startsWith('Invalid') ? `expected ${article(issue.format)}` : `expected ${issue.message}`
    default: return issue.message.startsWith('expected') ? issue.message : issue.message.replace(/^Invalid input: /, '')
  }
}

function article(t: string): string {
  const names: Record<string, string> = {int: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', object: 'a mapping (key: value)', array: 'a list', record: 'a mapping (key: value)', url: 'a URL'}
  return names[t] ?? `a ${t}`
}

function show(v: unknown): string {
  if (v === null) return 'null (an empty value)'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a mapping'
  return JSON.stringify(v)
}

function allowedKeys(issue: z.core.$ZodIssue): string[] {
  const shape = (issue as {keys: string[]}).keys ? findShape(issue.path as Path) : undefined
  return shape ? Object.keys(shape) : []
}

function findShape(p: Path): Record<string, unknown> | undefined {
  let schema: unknown = fleetSchema
  for (const key of p) {
    schema = unwrap(schema)
    const def = (schema as {def?: {type: string; shape?: Record<string, unknown>; valueType?: unknown; element?: unknown}}).def
    if (!def) return undefined
    if (def.type === 'object') schema = def.shape![key as string]
    else if (def.type === 'record') schema = def.valueType
    else if (def.type === 'array') schema = def.element
    else return undefined
  }
  const def = (unwrap(schema) as {def?: {type: string; shape?: Record<string, unknown>}}).def
  return def?.type === 'object' ? def.shape : undefined
}

function unwrap(schema: unknown): unknown {
  let s = schema as {def?: {type: string; innerType?: unknown; in?: unknown}}
  while (s?.def && ['optional', 'default', 'nullable', 'pipe', 'prefault'].includes(s.def.type)) s = (s.def.innerType ?? s.def.in) as typeof s
  return s
}

function valueAt(doc: Document, p: Path): unknown {
  const node = doc.getIn(p, true) as Node | undefined
  if (node === undefined) return undefined
  return isScalar(node) ? node.value : (node as {toJSON(): unknown}).toJSON()
}

/** Offset of the node at `p` (its key when `atKey`), or of the key of the deepest ancestor that exists. */
function offsetOf(doc: Document, p: Path, atKey: boolean): number {
  for (let depth = p.length; depth > 0; depth--) {
    const parent = depth === 1 ? doc.contents : doc.getIn(p.slice(0, depth - 1), true)
    const key = p[depth - 1]
    let node: Node | undefined
    if (isMap(parent)) {
      const pair = parent.items.find(i => isScalar(i.key) && String(i.key.value) === String(key))
      if (pair) node = (atKey || depth < p.length || pair.value == null ? pair.key : pair.value) as Node
    } else if (isSeq(parent)) node = parent.items[Number(key)] as Node | undefined
    if (node?.range) return node.range[0]
  }
  return (doc.contents as Node | null)?.range?.[0] ?? 0
}

function pathAtOffset(doc: Document, offset: number): string {
  const top = doc.contents
  if (!isMap(top)) return ''
  const pair = top.items.find(i => isPair(i) && (i.key as Node)?.range && (i.key as Node).range![0] <= offset && ((i.value as Node)?.range?.[2] ?? Infinity) >= offset)
  return pair && isScalar(pair.key) ? String(pair.key.value) : ''
}

function yamlMessage(code: string, message: string): string {
  if (code === 'DUPLICATE_KEY') return 'duplicate key: each name may appear only once in a mapping'
  const first = message.split('\n')[0].replace(/ at line \d+, column \d+.*$/, '')
  return `YAML syntax error: ${first}`
}

function yamlHint(code: string): string {
  if (code === 'DUPLICATE_KEY') return 'rename or merge one of the two entries'
  if (code === 'TAB_AS_INDENT') return 'indent with spaces, not tabs'
  if (code === 'BAD_INDENT' || code === 'MISSING_CHAR') return 'check the indentation and the ":" after each key'
  return 'check quoting, indentation and the ":" after each key'
}

function sortProblems(ps: ConfigProblem[]): ConfigProblem[] {
  return ps.sort((a, b) => a.line - b.line || a.col - b.col || a.path.localeCompare(b.path))
}
