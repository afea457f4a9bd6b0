import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {migrateTasks, planMigrations, readMigrationStatus, type MigrationRow} from '../fleet/plan/migrate.js'
import {selectInstances} from '../fleet/targets.js'
import {auditOf} from '../state/audit.js'
import {renderTable} from '../ui/table.js'

export interface MigrateResult {
  ok: boolean
  dryRun: boolean
  instances: MigrationRow[]
}

export default class Migrate extends FleetCommand<MigrateResult> {
  static summary = 'run each instance\'s database migration once, or show every instance\'s applied version'
  static description = 'Migrations run on the first target of each instance, on its current release. deploy also runs them, after the new release is in place and before traffic moves, so they must be backward compatible: the old release keeps serving on the new schema.'
  static examples = ['<%= config.bin %> migrate --status', '<%= config.bin %> migrate eu us --yes', '<%= config.bin %> migrate --status --json']
  static strict = false
  static args = {instance: Args.string({description: 'instances to migrate (default: all that declare migrate)'})}
  static flags = {status: Flags.boolean({summary: 'only show each instance\'s applied version'}), 'dry-run': Flags.boolean({summary: 'show where migrations would run'})}

  async run(): Promise<MigrateResult> {
    const {argv, flags} = await this.parse(Migrate)
    const fleet = await this.loadFleet()
    await this.getRuntimes(fleet)
    const deps = {fleet, runtimeFor: (i: string) => this.runtimes!.runtimeFor(i), sources: {}, signal: this.abort.signal}
    const rows = planMigrations(deps, selectInstances(fleet, argv as string[]))
    const table = (r: MigrationRow[]) => renderTable(['instance', 'host', 'applied', 'result', 'detail'], r.map(x => [x.instance, x.host, x.applied ?? '-', x.result ?? '', x.error ?? x.output ?? '']))
    if (!flags.status) {
      await this.mutate(fleet, {summary: `migrate ${rows.map(r => r.instance).join(', ')}`, preview: `plan: run migrations (backward compatible only)\n${table(rows)}`, dryRun: Boolean(flags['dry-run']), changes: rows.length > 0},
        async () => (await this.runTasks(migrateTasks(rows, deps), {rows})).ctx.rows,
        r => auditOf(r, x => x.result === 'migrated', x => ({target: `${x.instance}@${x.host}`, result: x.result ?? 'skipped', error: x.error})))
    }
    const done = flags['dry-run'] ? rows : (await readMigrationStatus(rows, deps)).map((r, i) => ({...rows[i], applied: r.applied, error: rows[i].error ?? r.error}))
    const failed = done.filter(r => r.result === 'failed' || (flags.status && r.error))
    return this.finish({ok: failed.length === 0, dryRun: Boolean(flags['dry-run']), instances: done}, () => table(done), failed.length ? `migration failed on ${failed.map(r => r.instance).join(', ')}` : undefined)
  }
}
