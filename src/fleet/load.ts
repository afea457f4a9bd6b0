import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {type Document, isCollection, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type Scalar, visit, type YAMLError} from 'yaml'
import type {z} from 'zod'
import {type ConfigProblem, FleetConfigError} from '../errors.js'
import {checkReferences} from './references.js'
import {fleetSchema, type FleetSpec} from './schema.js'
import {closest, hintFor, suggest} from './hints.js'

export interface Fleet {
  /** Absolute path of the fleet file. */
  file: string
  dir: string
  /** Where locks, the audit log, inventories and local releases live: `.local/fleet` beside the file. */
  stateDir: string
  spec: FleetSpec
  /** Where provisioned hosts without an `address` were created (from the inventory), by host name. */
  machines?: Record<string, {address: string; port?: number; user?: string; identity?: string}>
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

interface Located {offset: number; path: Path; message: string; hint?: string}

export function parseFleet(text: string, file: string, displayName = file): Fleet & {source: SourceMap} {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true})
  const fail = (found: Located[]) => new FleetConfigError(report(found, displayName, lineCounter))
  if (doc.errors.length > 0) throw fail(describeSyntax(doc, text, doc.errors))

  const raw: unknown = doc.toJS() ?? {}
  const parsed = fleetSchema.safeParse(raw, {reportInput: true})
  const issues = parsed.success ? [] : parsed.error.issues
  const misspelt = new Set(issues.flatMap(i => (i.code === 'unrecognized_keys' ? i.keys.map(k => [...i.path, closest(k, allowedKeys(i.path as Path))].join('.')) : [])))
  // A missing key that was only misspelt is reported once, as the unknown key with its "did you mean".
  const problems = issues.filter(i => !(misspelt.has(i.path.join('.')) && !find(doc, i.path as Path))).flatMap(i => describeIssue(doc, i))
  // Cross-field rules also run on a broken file (so one pass reports everything), but stay quiet about values
  // the schema already rejected.
  const rejected = issues.filter(i => i.code !== 'unrecognized_keys').map(i => i.path as Path)
  const references = checkReferences(parsed.success ? parsed.data : raw).filter(r => !rejected.some(p => isPrefix(p, r.path)))
  problems.push(...references.map(r => ({...r, offset: offsetOf(doc, r.path, r.atKey ?? false)})))
  if (problems.length > 0) throw fail(problems)

  const abs = path.resolve(file)
  const dir = path.dirname(abs)
  const source: SourceMap = {locate: p => lineCounter.linePos(offsetOf(doc, p, false))}
  return {file: abs, dir, stateDir: path.join(dir, '.local', 'fleet'), spec: parsed.data!, source}
}

/** Positions, one problem per position and message (yaml reports some errors twice), in file order. */
function report(found: Located[], file: string, lineCounter: LineCounter): ConfigProblem[] {
  const problems = found.map(({offset, path: p, message, hint}) => ({file, ...lineCounter.linePos(offset), path: p.join('.'), message, hint}))
  const unique = new Map(problems.map(p => [`${p.line}:${p.col}:${p.message}`, p]))
  return [...unique.values()].sort((a, b) => a.line - b.line || a.col - b.col || a.path.localeCompare(b.path))
}

function describeIssue(doc: Document, issue: z.core.$ZodIssue): Located[] {
  const p = issue.path as Path
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(p)
    return issue.keys.map(key => ({
      offset: offsetOf(doc, [...p, key], true),
      path: [...p, key],
      message: `unknown key "${key}"`,
      hint: suggest(key, allowed) ?? (allowed.length > 0 ? `allowed here: ${allowed.join(', ')}` : undefined),
    }))
  }
  if (issue.code === 'invalid_key') {
    return [{offset: offsetOf(doc, p, true), path: p, message: `invalid name "${p.at(-1)}": expected ${issue.issues[0]?.message ?? 'a valid name'}`, hint: hintFor(p, issue)}]
  }
  const found = find(doc, p)
  if (!found) {
    const parent = p.slice(0, -1)
    return [{offset: offsetOf(doc, parent, true), path: parent, message: `missing required key "${p.at(-1)}"`, hint: hintFor(p, issue)}]
  }
  const got = p.at(-1) === 'token' && typeof found.value === 'string' ? 'a literal value (not shown)' : show(found.value)
  return [{offset: offsetOf(doc, p, false), path: p, message: `${expectation(issue, p)}, got ${got}`, hint: hintFor(p, issue)}]
}

function expectation(issue: z.core.$ZodIssue, p: Path): string {
  switch (issue.code) {
    case 'invalid_type': {
      const schema = schemaAt(p) as {format?: string} | undefined
      return `expected ${article(schema?.format?.includes('int') ? 'int' : issue.expected)}`
    }
    case 'invalid_value': return issue.values.length === 1 ? `expected ${JSON.stringify(issue.values[0])}` : `expected one of ${issue.values.join(', ')}`
    case 'too_small': return `expected ${bound('at least', 'more than', issue.minimum, issue.inclusive, issue.origin)}`
    case 'too_big': return `expected ${bound('at most', 'less than', issue.maximum, issue.inclusive, issue.origin)}`
    case 'invalid_format':
      if (issue.format === 'url') return 'expected a URL'
      if (issue.format === 'starts_with') return `expected a value starting with "${(issue as {prefix?: string}).prefix}"`
      return issue.message.startsWith('Invalid') ? `expected a value matching ${(issue as {pattern?: string}).pattern ?? issue.format}` : `expected ${issue.message}`
    default: return issue.message.startsWith('expected') ? issue.message : `expected ${issue.message}`
  }
}

function bound(inclusive: string, exclusive: string, n: number | bigint, isInclusive: boolean | undefined, origin: string): string {
  const unit = origin === 'array' ? ` item${n === 1 ? '' : 's'}` : origin === 'string' ? ` character${n === 1 ? '' : 's'}` : ''
  if (origin === 'string' && n === 1) return 'a non-empty string'
  return `${isInclusive === false ? exclusive : inclusive} ${n}${unit}`
}

function article(t: string): string {
  const names: Record<string, string> = {int: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', object: 'a mapping (key: value)', array: 'a list', record: 'a mapping (key: value)'}
  return names[t] ?? `a ${t}`
}

function show(v: unknown): string {
  if (v === null) return 'an empty value'
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list'
  if (typeof v === 'object') return Object.keys(v).length === 0 ? 'an empty mapping' : 'a mapping'
  const s = JSON.stringify(v)
  return s.length > 60 ? `${s.slice(0, 57)}..."` : s
}

/** The zod schema that validates the value at `p`, through optionals, defaults, records and lists. */
function schemaAt(p: Path): unknown {
  let schema: unknown = fleetSchema
  for (const key of p) {
    const def = (unwrap(schema) as {def?: {type: string; shape?: Record<string, unknown>; valueType?: unknown; element?: unknown}}).def
    if (def?.type === 'object') schema = def.shape![key as string]
    else if (def?.type === 'record') schema = def.valueType
    else if (def?.type === 'array') schema = def.element
    else return undefined
  }
  return unwrap(schema)
}

function allowedKeys(p: Path): string[] {
  const def = (schemaAt(p) as {def?: {type: string; shape?: Record<string, unknown>}} | undefined)?.def
  return def?.type === 'object' ? Object.keys(def.shape!) : []
}

function unwrap(schema: unknown): unknown {
  let s = schema as {def?: {type: string; innerType?: unknown; in?: unknown}}
  while (s?.def && ['optional', 'default', 'nullable', 'pipe', 'prefault'].includes(s.def.type)) s = (s.def.innerType ?? s.def.in) as typeof s
  return s
}

function isPrefix(prefix: Path, p: Path): boolean {
  return prefix.length <= p.length && prefix.every((k, i) => String(k) === String(p[i]))
}

/** The node at `p` with its key (absent for list items and the root); undefined when the path does not exist. */
function find(doc: Document, p: Path): {key?: Node; node: Node | null; value: unknown} | undefined {
  let node = doc.contents as Node | null
  let key: Node | undefined
  for (const k of p) {
    if (isMap(node)) {
      const pair = node.items.find(i => isScalar(i.key) && String(i.key.value) === String(k))
      if (!pair) return undefined
      ;[key, node] = [pair.key as Node, pair.value as Node | null]
    } else if (isSeq(node) && Number(k) < node.items.length) {
      ;[key, node] = [undefined, node.items[Number(k)] as Node]
    } else return undefined
  }
  const value = node == null ? null : isScalar(node) ? node.value : (node as {toJSON(): unknown}).toJSON()
  return {key, node, value}
}

/** Offset of the node at `p` (of its key when `atKey` or when the value is empty), else of the nearest existing ancestor's key. */
function offsetOf(doc: Document, p: Path, atKey: boolean): number {
  for (let depth = p.length; depth > 0; depth--) {
    const found = find(doc, p.slice(0, depth))
    if (!found) continue
    const empty = found.node == null || (isScalar(found.node) && found.node.range![0] === found.node.range![1])
    const node = (atKey || depth < p.length || empty) && found.key ? found.key : found.node
    if (node?.range) return node.range[0]
  }
  return (doc.contents as Node | null)?.range?.[0] ?? 0
}

/** The innermost node that starts before `offset` and runs up to it: the unclosed quote or bracket behind an error. */
function openerOf(doc: Document, offset: number, test: (n: Node) => boolean): Node | undefined {
  let opener: Node | undefined
  visit(doc, {Node(_, n) {
    if (n.range && n.range[0] < offset && offset <= n.range[2] && test(n)) opener = n
  }})
  return opener
}

/**
 * The keys that lead to a line, read from the indentation of the lines above it: after a syntax error the parsed
 * tree is not what the user meant, the indentation usually is.
 */
function pathOfLine(lines: string[], line: number): Path {
  const indent = (l: string) => /^[ \t]*/.exec(l)![0].replaceAll('\t', '        ').length
  const keyOf = (l: string) => /^[ \t]*(?:- )?([^\s#:'"{[][^:#]*?):(?:\s|$)/.exec(l)?.[1]
  const own = keyOf(lines[line - 1])
  const p: Path = own ? [own] : []
  let limit = indent(lines[line - 1])
  for (let i = line - 2; i >= 0 && limit > 0; i--) {
    if (!lines[i].trim() || lines[i].trim().startsWith('#') || indent(lines[i]) >= limit) continue
    limit = indent(lines[i])
    const key = keyOf(lines[i])
    if (key) p.unshift(key)
  }
  return p
}

function describeSyntax(doc: Document, text: string, errors: YAMLError[]): Located[] {
  const lines = text.split('\n')
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length
  let misaligned = false
  return errors.flatMap(e => {
    let offset = e.pos[0]
    let message = `syntax error: ${e.message.charAt(0).toLowerCase()}${e.message.slice(1)}`
    let hint = 'check quoting, indentation and the ":" after each key'
    const flow = /^Flow (sequence|map)/.exec(e.message)
    if (e.code === 'MISSING_CHAR' && /quote/.test(e.message)) {
      const quoted = openerOf(doc, offset, n => isScalar(n) && (n.type === 'QUOTE_DOUBLE' || n.type === 'QUOTE_SINGLE'))
      offset = quoted?.range?.[0] ?? offset
      const q = text[offset] === "'" ? "'" : '"'
      message = `syntax error: this ${q} quote is never closed`
      hint = `end the value with ${q} on the same line`
    } else if (flow) {
      const [open, close, what] = flow[1] === 'sequence' ? ['[', ']', 'list'] : ['{', '}', 'mapping']
      const opener = openerOf(doc, offset, n => isCollection(n) && n.flow === true && text[n.range![0]] === open)
      offset = opener?.range?.[0] ?? offset
      message = `syntax error: this ${open} is never closed`
      hint = `end the ${what} with ${close} (or write it as indented lines)`
    } else if (e.code === 'BAD_INDENT' && /same column/.test(e.message)) {
      // One misplaced key throws its later siblings out of line too; report the first, the rest are echoes of it.
      if (misaligned) return []
      misaligned = true
      offset += Math.max(0, text.slice(offset).search(/[^ ]/))
      message = 'syntax error: this key is not aligned with the keys above it'
      hint = 'indent it with the same number of spaces as the other keys of its mapping'
    } else if (e.code === 'TAB_AS_INDENT') {
      message = 'syntax error: a tab is used for indentation'
      hint = 'indent with spaces, not tabs'
    } else if (e.code === 'DUPLICATE_KEY') {
      const key = String((openerOf(doc, offset + 1, n => isScalar(n) && n.range![0] === offset) as Scalar | undefined)?.value)
      const p = pathOfLine(lines, lineOf(offset))
      if (p.at(-1) !== key) p.push(key)
      const first = find(doc, p)?.key?.range?.[0]
      return [{offset, path: p, message: `duplicate key "${key}"`, hint: `it is already set${first === undefined ? '' : ` on line ${lineOf(first)}`}; keep one of them`}]
    } else if (e.code === 'MULTILINE_IMPLICIT_KEY' || e.code === 'BLOCK_AS_IMPLICIT_KEY') {
      message = 'syntax error: a key must fit on one line and end with ":"'
      hint = 'add the missing ":" after the key, or fix the indentation of the lines below it'
    }
    return [{offset, path: pathOfLine(lines, lineOf(offset)), message, hint}]
  })
}
