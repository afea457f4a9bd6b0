import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {FleetCommand} from '../base-command.js'
import {UsageError} from '../errors.js'
import {acquireLock, describeLock, readLock, releaseLock, type LockInfo} from '../state/lock.js'

export interface LockResult {
  action: 'status' | 'acquire' | 'release'
  lock: LockInfo | null
  released?: LockInfo | null
}

export default class Lock extends FleetCommand<LockResult> {
  static summary = 'show, take or release the fleet lock (held by every change while it runs)'
  static examples = ['<%= config.bin %> lock status', '<%= config.bin %> lock acquire --message "db maintenance"', '<%= config.bin %> lock release --yes']
  static args = {action: Args.string({options: ['status', 'acquire', 'release'], default: 'status', description: 'what to do'})}
  static flags = {message: Flags.string({char: 'm', summary: 'why the lock is taken (shown to whoever is refused)'})}

  async run(): Promise<LockResult> {
    const {args, flags} = await this.parse(Lock)
    const fleet = await this.loadFleet()
    const action = args.action as LockResult['action']
    if (action === 'acquire') {
      // A lock taken by hand outlives this process: pid 0 marks it as held until released.
      const lock = await acquireLock(fleet.stateDir, 'lock acquire', {pid: 0, note: flags.message})
      await this.audit(fleet, {plan: `lock: ${flags.message ?? 'taken by hand'}`, exitCode: 0, outcome: 'ok'})
      return this.finish({action, lock}, () => `locked: ${describeLock(lock)}`)
    }
    if (action === 'release') {
      const held = await readLock(fleet.stateDir)
      if (held && !this.flagsBase.yes) throw new UsageError(`the lock is held by ${describeLock(held)}`, 'pass --yes to release it anyway')
      const released = await releaseLock(fleet.stateDir, {force: true})
      await this.audit(fleet, {plan: 'lock release', exitCode: 0, outcome: 'ok'})
      return this.finish({action, lock: null, released: released ?? null}, () => (released ? `released the lock held by ${describeLock(released)}` : 'the fleet was not locked'))
    }
    const lock = (await readLock(fleet.stateDir)) ?? null
    return this.finish({action, lock}, () => (lock ? `locked by ${describeLock(lock)}` : 'not locked'))
  }
}
