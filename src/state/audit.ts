import {appendFile, mkdir, readFile} from 'node:fs/promises'
import {hostname, userInfo} from 'node:os'
import path from 'node:path'

export interface AuditRecord {
  at: string
  who: string
  host: string
  command: string
  argv: string[]
  plan?: string
  outcome: 'ok' | 'failed' | 'partial' | 'interrupted' | 'dry-run' | 'refused'
  exitCode: number
  durationMs: number
  targets?: {target: string; result: string; error?: string}[]
  error?: string
}

export interface AuditTarget {
  target: string
  result: string
  error?: string
}

/** What the audit keeps of per-target results: every row, and `partial` as soon as one is not ok. */
export function auditOf<T>(items: T[], ok: (item: T) => boolean, row: (item: T) => AuditTarget): {outcome: 'ok' | 'partial'; targets: AuditTarget[]} {
  return {outcome: items.every(ok) ? 'ok' : 'partial', targets: items.map(row)}
}

const auditFile = (stateDir: string) => path.join(stateDir, 'audit.jsonl')

export async function appendAudit(stateDir: string, rec: Omit<AuditRecord, 'at' | 'who' | 'host'>): Promise<void> {
  await mkdir(stateDir, {recursive: true})
  const full: AuditRecord = {at: new Date().toISOString(), who: userInfo().username, host: hostname(), ...rec}
  await appendFile(auditFile(stateDir), JSON.stringify(full) + '\n', {mode: 0o600})
}

export async function readAudit(stateDir: string, limit: number): Promise<AuditRecord[]> {
  let text = ''
  try {
    text = await readFile(auditFile(stateDir), 'utf8')
  } catch {
    return []
  }
  return text.split('\n').filter(Boolean).slice(-limit).flatMap(l => {
    try { return [JSON.parse(l) as AuditRecord] } catch { return [] }
  })
}
