import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {readAudit, type AuditRecord} from '../state/audit.js'
import {renderTable} from '../ui/table.js'

export interface AuditResult {
  records: AuditRecord[]
}

export default class Audit extends FleetCommand<AuditResult> {
  static summary = 'show the most recent operations on the fleet: who, what, outcome, duration'
  static examples = ['<%= config.bin %> audit', '<%= config.bin %> audit --limit 50 --json']
  static flags = {limit: Flags.integer({summary: 'how many records to show', default: 20, min: 1})}

  async run(): Promise<AuditResult> {
    const {flags} = await this.parse(Audit)
    const fleet = await this.loadFleet()
    const records = await readAudit(fleet.stateDir, flags.limit)
    const rows = records.map(r => [r.at.replace('T', ' ').slice(0, 19), r.who, r.command, r.outcome, r.exitCode, `${(r.durationMs / 1000).toFixed(1)} s`, r.plan ?? '', (r.targets ?? []).map(t => `${t.target}:${t.result}`).join(' ')])
    return this.finish({records}, () => records.length ? renderTable(['when', 'who', 'command', 'outcome', 'exit', 'took', 'plan', 'targets'], rows) : 'no operations recorded yet')
  }
}
