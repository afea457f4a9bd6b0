import {readdir, readFile} from 'node:fs/promises'

/**
 * Every secret value the end-to-end tests use starts with this prefix, so one watcher over the whole run
 * (test/helpers/canary-global.ts) can assert that none of them ever reached a process's argv or an audit log.
 */
export const CANARY_PREFIX = 'canary-'

/**
 * Samples every process's argv (/proc/PID/cmdline) while a test runs and records any that contains one of the
 * secret values. stop() returns what leaked, as "pid: argv" lines.
 */
export function watchForLeaks(secrets: string[], intervalMs = 2): {stop(): Promise<string[]>; samples(): number} {
  const leaks = new Set<string>()
  let samples = 0
  let running = true
  const loop = (async () => {
    while (running) {
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue
        const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
        if (secrets.some(s => argv.includes(s))) leaks.add(`${entry}: ${argv.replaceAll('\0', ' ')}`)
      }
      samples++
      await new Promise(r => setTimeout(r, intervalMs))
    }
  })()
  return {
    samples: () => samples,
    async stop() {
      running = false
      await loop
      if (samples < 3) throw new Error(`the leak watcher only sampled ${samples} times`)
      return [...leaks]
    },
  }
}
