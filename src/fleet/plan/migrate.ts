import type {ListrTask} from 'listr2'
import {targetsOf} from '../targets.js'
import {migrate, type DeployDeps} from './deploy.js'

export interface MigrationRow {
  instance: string
  host: string
  /** What the instance's status command printed (e.g. the applied schema version). */
  applied: string | null
  result?: 'migrated' | 'failed'
  output?: string
  error?: string
}

/** Instances that declare a migration; the first target of each is where it runs. Pure. */
export function planMigrations(deps: Pick<DeployDeps, 'fleet'>, instances: string[]): MigrationRow[] {
  return instances.filter(i => deps.fleet.spec.instances[i].migrate).map(i => ({instance: i, host: targetsOf(deps.fleet, i)[0].host, applied: null}))
}

export function migrateTasks(rows: MigrationRow[], deps: DeployDeps): ListrTask<{rows: MigrationRow[]}>[] {
  return rows.map(row => ({
    title: `${row.instance}: migrate on ${row.host}`,
    task: async (_ctx, task) => {
      const target = targetsOf(deps.fleet, row.instance).find(t => t.host === row.host)!
      try {
        row.output = await migrate(deps, target, 'current')
        task.output = row.output
        row.result = 'migrated'
      } catch (error) {
        row.result = 'failed'
        row.error = (error as Error).message
        throw error
      }
    },
  }))
}

/** Every instance's applied version, read with its status command on the current release, in parallel. */
export async function readMigrationStatus(rows: MigrationRow[], deps: Pick<DeployDeps, 'fleet' | 'runtimeFor' | 'signal'>): Promise<MigrationRow[]> {
  return Promise.all(rows.map(async row => {
    const status = deps.fleet.spec.instances[row.instance].migrate!.status
    if (!status) return {...row, error: 'no migrate.status command declared'}
    const target = targetsOf(deps.fleet, row.instance).find(t => t.host === row.host)!
    const argv = typeof status === 'string' ? ['sh', '-c', status] : status
    try {
      const r = await deps.runtimeFor(row.instance).runTask(target, argv, {in: 'current', signal: deps.signal})
      return r.code === 0 ? {...row, applied: r.stdout.trim() || null} : {...row, error: `status exited ${r.code}: ${r.stderr.trim().split('\n').at(-1)}`}
    } catch (error) {
      return {...row, error: (error as Error).message}
    }
  }))
}
