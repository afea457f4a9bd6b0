import {spawn, spawnSync} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

export const median = (xs) => {
  const s = xs.filter((x) => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b)
  if (s.length === 0) return undefined
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], {stdio: 'ignore'}).status === 0

/**
 * Runs one command to its end and times it (wall clock, spawn to exit). Each run gets its own process group, so a
 * timeout ends the command and whatever it started, and nothing else. With `trace`, the node process writes the
 * bench/trace.mjs record, returned as `trace`.
 */
export function runOnce({cmd, args, env, cwd, timeoutMs = 300_000, trace, capture}) {
  return new Promise((resolve) => {
    if (trace) rmSync(trace, {force: true})
    const started = performance.now()
    const child = spawn(cmd, args, {cwd, env: {...process.env, ...env, ...(trace ? {BENCH_TRACE: trace} : {})}, stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    let tail = ''
    let stdout = ''
    const keep = (chunk) => (tail = (tail + chunk).slice(-2000))
    child.stdout.on('data', keep)
    if (capture) child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', keep)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }, timeoutMs)
    child.on('error', (error) => keep(String(error)))
    child.on('close', (code, signal) => {
      const ms = performance.now() - started
      clearTimeout(timer)
      let t
      try {
        t = trace ? JSON.parse(readFileSync(trace, 'utf8')) : undefined
      } catch {}
      resolve({ms, code: timedOut ? 'timeout' : (code ?? signal), ok: code === 0 && !timedOut, tail, stdout, trace: t})
    })
  })
}

/**
 * Times short commands with hyperfine (-N: no shell in between), in `rounds` separate hyperfine calls whose command
 * order rotates, pooling the runs: hyperfine runs each command's repetitions back to back, and on a shared, noisy
 * machine one block of runs can land in a busy minute that the next command's block misses.
 */
export function hyperfine(commands, {cwd, runs, warmup, rounds = 1, dir, name}) {
  const times = new Map(commands.map((c) => [c, []]))
  for (let round = 0; round < rounds; round++) {
    const order = commands.map((_, i) => commands[(i + round) % commands.length])
    const json = join(dir, `hyperfine-${name}-${round}.json`)
    const n = Math.ceil(runs / rounds)
    const r = spawnSync('hyperfine', ['-N', '--warmup', String(round === 0 ? warmup : 1), '--runs', String(n), '--export-json', json, ...order], {cwd, encoding: 'utf8'})
    if (r.status !== 0) throw new Error(`hyperfine failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`)
    for (const x of JSON.parse(readFileSync(json, 'utf8')).results) times.get(x.command).push(...x.times.map((t) => t * 1000))
  }
  return commands.map((command) => summary(command, times.get(command)))
}

/** The same statistics from a plain loop, for machines without hyperfine; commands alternate run by run. */
export async function loop(commands, {cwd, runs, warmup}) {
  const argv = (command) => {
    const [cmd, ...args] = command.split(' ')
    return {cmd, args, cwd}
  }
  for (const command of commands) for (let i = 0; i < warmup; i++) await runOnce(argv(command))
  const times = new Map(commands.map((c) => [c, []]))
  for (let i = 0; i < runs; i++) {
    for (const command of commands) {
      const r = await runOnce(argv(command))
      if (r.ok) times.get(command).push(r.ms)
    }
  }
  return commands.map((command) => summary(command, times.get(command)))
}

const summary = (command, times) => ({command, median: median(times), min: Math.min(...times), max: Math.max(...times), runs: times.length})

export const ms = (x) => (x === undefined ? '–' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`)
export const ratio = (a, b) => (a === undefined || !b ? '–' : `${(a / b).toFixed(2)}x`)
export const mb = (kb) => (kb === undefined ? '–' : `${(kb / 1024).toFixed(1)} MB`)
