import {createRequire} from 'node:module'

// Loaded on first use: --json runs never pay for it.
const load = () => createRequire(import.meta.url)('cli-table3') as typeof import('cli-table3')

/** Rows to text: no colour unless stdout is a terminal and NO_COLOR is unset. */
export function renderTable(head: string[], rows: (string | number)[][], opts: {color?: boolean} = {}): string {
  const color = opts.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR)
  const Table = load()
  const table = new Table({head, style: {head: color ? ['cyan'] : [], border: color ? ['grey'] : [], compact: true}, chars: color ? {} : {mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': ''}})
  for (const r of rows) table.push(r.map(String))
  return table.toString()
}

export function paint(text: string, code: 'green' | 'red' | 'yellow' | 'dim'): string {
  if (!process.stdout.isTTY || process.env.NO_COLOR) return text
  const codes = {green: 32, red: 31, yellow: 33, dim: 2}
  return `\u001B[${codes[code]}m${text}\u001B[0m`
}
