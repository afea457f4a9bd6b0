// `npm run bench`: fleet exec fan-out against its library floor and the usual tools, CLI cold start, and status over
// hundreds of instances, side by side in one run. Writes BENCHMARKS.md above the `<!-- analysis -->` marker and keeps
// what follows it. Knobs (environment): BENCH_REPS (5), BENCH_SLOW_REPS (3, the two ansible runs), BENCH_HOSTS
// ("20,50"), BENCH_INSTANCES (100: deploying 200 local instances alone takes 80-130 s here), BENCH_ONLY
// ("exec,cold,status").
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import os from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {has, hyperfine, loop, mb, median, ms, ratio, runOnce} from './measure.mjs'
import {startSshHosts, writeClientFiles} from './sshd.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const REPS = Number(process.env.BENCH_REPS ?? 5)
const SLOW_REPS = Number(process.env.BENCH_SLOW_REPS ?? 3)
const SIZES = (process.env.BENCH_HOSTS ?? '20,50').split(',').map(Number).sort((a, b) => a - b)
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 100)
const ONLY = new Set((process.env.BENCH_ONLY ?? 'exec,cold,status').split(','))
const MARKER = '<!-- analysis -->'
const TARGETS = {execRatio: 1.15, rssMb: 100, coldRatio: 3}

const log = (line) => process.stderr.write(`bench: ${line}\n`)
const cleanups = []
const cleanup = async () => {
  while (cleanups.length) await cleanups.pop()().catch((error) => log(`cleanup: ${error.message}`))
}
process.once('SIGINT', () => cleanup().finally(() => process.exit(130)))

const startedAt = new Date()
const started = performance.now()
const loadStart = os.loadavg()
const tmp = await mkdtemp(join(os.tmpdir(), 'fleet-bench-'))
cleanups.push(() => rm(tmp, {recursive: true, force: true}))
// a private copy of the build just made: someone running `npm run build` meanwhile (rm -rf dist) must not break a run
const cliDir = join(tmp, 'cli')
await mkdir(cliDir)
for (const f of ['bin', 'dist', 'package.json', 'oclif.manifest.json']) await cp(join(root, f), join(cliDir, f), {recursive: true})
await symlink(join(root, 'node_modules'), join(cliDir, 'node_modules'))
const fleetBin = join(cliDir, 'bin', 'run.js')
const shown = (command) => command.replaceAll(fleetBin, 'bin/run.js')
const notes = []
const report = {}
const loads = {}
try {
  const section = async (name, fn) => {
    loads[name] = os.loadavg()[0]
    report[name] = await fn()
  }
  if (ONLY.has('exec')) await section('exec', benchExec)
  if (ONLY.has('cold')) await section('cold', benchCold)
  if (ONLY.has('status')) await section('status', benchStatus)
} finally {
  await cleanup()
}
const durationMs = performance.now() - started
await writeReport()
log(`done in ${ms(durationMs)}; results in BENCHMARKS.md`)

// ---------------------------------------------------------------- 1. fan-out

async function benchExec() {
  const max = SIZES.at(-1)
  const t = performance.now()
  const tb = await startSshHosts({count: max, dir: join(tmp, 'sshd')})
  cleanups.push(() => tb.stop())
  log(`${max} sshd hosts up in ${ms(performance.now() - t)} (127.0.0.2-${max + 1}, port ${tb.hosts[0].port})`)
  const out = {sizes: {}, hosts: max}
  const sshTimes = []
  for (let i = 0; i < REPS; i++) sshTimes.push((await runOnce({cmd: 'ssh', args: ['-F', tb.sshConfigFile, 'host1', 'true']})).ms)
  out.sshTrue = median(sshTimes)
  for (const n of SIZES) {
    const tools = await fanOutTools(tb, n, n === max)
    log(`fan-out at ${n} hosts: ${tools.map((x) => x.id).join(', ')}`)
    for (const tool of tools) if (tool.warm && !tool.skip) await tool.warm()
    for (let rep = 0; rep < REPS; rep++) {
      // rotate the order each repetition, so no tool always runs right after the heaviest one
      const order = tools.map((_, i) => tools[(i + rep) % tools.length])
      for (const tool of order) {
        if (tool.skip || rep >= tool.reps) continue
        const r = await tool.run(rep)
        tool.runs.push(r)
        log(`  ${n} hosts, rep ${rep + 1}: ${tool.id} ${ms(r.ms)}${r.ok ? '' : ` FAILED (${r.code}): ${r.tail.trim().split('\n').at(-1)}`}`)
      }
    }
    out.sizes[n] = tools.map(({run, warm, ...rest}) => rest)
  }
  await tb.stop()
  cleanups.pop()
  return out
}

async function fanOutTools(tb, n, profile) {
  const dir = join(tmp, `exec-${n}`)
  const files = await writeClientFiles(tb, n, dir)
  const fleetFile = async (name, extra = '') => {
    const file = join(dir, name, 'fleet.yaml')
    await mkdir(join(dir, name), {recursive: true})
    await writeFile(file, [
      'version: 1',
      'providers: {bench: {type: ssh}}',
      `ssh: {known_hosts: ${tb.knownHostsFile}, config: ${tb.sshConfigFile}${extra}}`,
      'hosts:',
      ...tb.hosts.slice(0, n).map((h) => `  ${h.name}: {provider: bench, address: ${h.address}, port: ${h.port}, user: ${tb.user}, identity: ${tb.clientKey}}`),
      '',
    ].join('\n'))
    return file
  }
  // the first warm-up of each tool fills the page cache; only fleet needs one per size (per fleet file: the first
  // run of a fleet file validates it and caches the spec), and one host is enough for that
  const first = n === SIZES[0]
  const warmOnce = (tool) => first ? () => tool.run('warm') : undefined
  const node = (id, label, script, args, shown) => {
    const tool = {id, label, shown, reps: REPS, node: true, runs: []}
    tool.run = (rep) => runOnce({cmd: process.execPath, args: ['--import', './bench/trace.mjs', script, ...args], cwd: root, trace: join(dir, `${id}-${rep}.trace.json`)})
    tool.warm = warmOnce(tool)
    return tool
  }
  const fleet = (id, label, file, flags, shown) => {
    const tool = node(id, label, fleetBin, ['exec', '-f', file, ...flags, '--', 'uptime'], shown)
    tool.warm = () => runOnce({cmd: process.execPath, args: [fleetBin, 'exec', '-f', file, '--host', 'host1', '--', 'true'], cwd: root})
    return tool
  }
  const defaultFile = await fleetFile('default')
  const tools = [
    fleet('fleet', 'fleet exec', defaultFile, [], `node bin/run.js exec -f fleet.yaml -- uptime`),
    node('minimal', 'minimal ssh2 script (floor)', 'bench/minimal-ssh2.mjs', [files.psshHostsFile, tb.clientKey, 'uptime'], 'node bench/minimal-ssh2.mjs pssh_hosts client_key uptime'),
  ]
  if (profile) {
    tools.push(
      node('minimal-sh', 'minimal ssh2 script, remote command `sh -c uptime`', 'bench/minimal-ssh2.mjs', [files.psshHostsFile, tb.clientKey, 'sh -c uptime'], "node bench/minimal-ssh2.mjs pssh_hosts client_key 'sh -c uptime'"),
      fleet('fleet-c', `fleet exec --concurrency ${n}`, defaultFile, ['--concurrency', String(n)], `node bin/run.js exec -f fleet.yaml --concurrency ${n} -- uptime`),
      fleet('fleet-c-ms', `fleet exec --concurrency ${n}, ssh.max_startups ${n}`, await fleetFile('max-startups', `, max_startups: ${n}`), ['--concurrency', String(n)], `same, fleet.yaml ssh: {max_startups: ${n}}`),
    )
  }
  const other = (tool) => {
    tool.runs = []
    tool.reps ??= REPS
    tool.warm = warmOnce(tool)
    tools.push(tool)
  }
  other({id: 'ssh', label: `${n} background ssh processes`, shown: `ssh -F ssh_config hostI uptime & (x${n}); wait`, run: () => runOnce({cmd: 'sh', args: [files.sshLoopFile, 'uptime']})})
  other({
    id: 'pssh', label: 'parallel-ssh', shown: 'parallel-ssh -p 50 -h pssh_hosts -x "-F ssh_config" uptime', skip: !has('parallel-ssh') && 'not installed (apt-get install pssh)',
    run: () => runOnce({cmd: 'parallel-ssh', args: ['-p', '50', '-t', '120', '-h', files.psshHostsFile, '-x', `-F ${tb.sshConfigFile}`, 'uptime']}),
  })
  for (const module of ['raw', 'command']) {
    other({
      id: `ansible-${module}`, label: `ansible -m ${module}`, shown: `ansible all -i inventory.ini -m ${module} -a uptime -f 50`, reps: SLOW_REPS,
      skip: !has('ansible') && 'not installed (apt-get install ansible)',
      run: (rep) => runAnsible(files.inventoryFile, module, join(dir, `ansible-${module}-${rep}`)),
    })
  }
  // one ansible warm-up (raw) loads what both modules need; a warm-up of -m command would cost a whole run
  tools.find((t) => t.id === 'ansible-command').warm = undefined
  return tools
}

/**
 * ansible's default ssh arguments keep a ControlPersist master per host for 60 s. A fresh control dir per run keeps
 * one repetition from reusing the previous one's connections; the masters it leaves are then ended by their pids.
 */
async function runAnsible(inventory, module, dir) {
  const cp = join(dir, 'cp')
  await mkdir(cp, {recursive: true})
  const env = {ANSIBLE_HOME: join(tmp, 'ansible-home'), ANSIBLE_LOCAL_TEMP: join(dir, 'local-tmp'), ANSIBLE_SSH_CONTROL_PATH_DIR: cp, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0'}
  const r = await runOnce({cmd: 'ansible', args: ['all', '-i', inventory, '-m', module, '-a', 'uptime', '-f', '50'], env, cwd: dir})
  for (const pid of pidsWithCmdline(cp)) {
    try {
      process.kill(pid, 'SIGTERM')
    } catch {}
  }
  return r
}

function pidsWithCmdline(marker) {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)
    } catch {
      return false
    }
  })
}

// ---------------------------------------------------------------- 2. cold start

async function benchCold() {
  log('cold start: deploying the demo fleet')
  const deploy = await runOnce({cmd: process.execPath, args: [fleetBin, 'deploy', '--yes'], cwd: root})
  cleanups.push(() => runOnce({cmd: process.execPath, args: [fleetBin, 'stop', '--yes'], cwd: root}))
  if (!deploy.ok) notes.push(`demo deploy failed (${deploy.code}): ${deploy.tail.trim().split('\n').at(-1)}`)
  const status = await runOnce({cmd: process.execPath, args: [fleetBin, 'status', '--json'], cwd: root, capture: true})
  let healthy
  try {
    healthy = JSON.parse(status.stdout).healthy
  } catch {}
  const commands = ['node -e 0', `node ${fleetBin} --version`, `node ${fleetBin} status --json`]
  const {tool, results} = await timeCommands(commands, {cwd: root, runs: 15, rounds: 3, warmup: 3, dir: tmp, name: 'cold'})
  // the same two commands again with bench/trace.mjs, alternating, to see where status spends its time
  const traced = {version: [], status: []}
  for (let i = 0; i < 9; i++) {
    for (const [k, args] of [['version', ['--version']], ['status', ['status', '--json']]]) {
      const r = await runOnce({cmd: process.execPath, args: ['--import', './bench/trace.mjs', fleetBin, ...args], cwd: root, trace: join(tmp, `cold-${k}.trace.json`)})
      if (r.ok && r.trace) traced[k].push({...r.trace, wallMs: r.ms})
    }
  }
  await cleanups.pop()()
  log(`cold start: ${results.map((r) => `${r.command} ${ms(r.median)}`).join(', ')}`)
  return {tool, results, traced, deployMs: deploy.ms, deployOk: deploy.ok, healthy}
}

// ---------------------------------------------------------------- 3. status at scale

async function benchStatus() {
  const dir = join(tmp, 'status')
  await mkdir(dir, {recursive: true})
  const base = await freePortRange(INSTANCES)
  const source = join(root, 'templates', 'demo-service')
  const file = join(dir, 'fleet.yaml')
  const name = (i) => `i${String(i + 1).padStart(3, '0')}`
  await writeFile(file, ['version: 1', 'instances:', ...Array.from({length: INSTANCES}, (_, i) =>
    `  ${name(i)}: {runtime: local, release: {source: ${source}}, services: {web: {start: node server.js, port: ${base + i}, replicas: 1, health: {path: /health, timeout: 2s, grace: 30s}}}}`), ''].join('\n'))
  log(`status: deploying ${INSTANCES} local instances (ports ${base}-${base + INSTANCES - 1})`)
  const cli = (args, trace) => runOnce({cmd: process.execPath, args: ['--import', './bench/trace.mjs', fleetBin, ...args, '-f', file], cwd: root, timeoutMs: 600_000, capture: true, trace})
  const deploy = await cli(['deploy', '--yes', '--concurrency', '32', '--json'], join(dir, 'deploy.trace.json'))
  cleanups.push(() => cli(['stop', '--yes', '--json']))
  log(`status: deploy took ${ms(deploy.ms)}${deploy.ok ? '' : ` and FAILED (${deploy.code})`}`)
  if (!deploy.ok) {
    let why = deploy.tail.trim().split('\n').at(-1)
    try {
      why = JSON.parse(deploy.stdout).error.message
    } catch {}
    notes.push(`deploy of ${INSTANCES} instances failed (exit ${deploy.code}), so status ran over stopped instances: ${why.slice(0, 300)}`)
  }
  const one = await cli(['status', '--json'], join(dir, 'status.trace.json'))
  let rows = []
  try {
    rows = JSON.parse(one.stdout).instances
  } catch {}
  const healthyRows = rows.filter((r) => r.health === 'ok').length
  const command = `node ${fleetBin} status --json -f ${file}`
  const {results: [result]} = await timeCommands([command], {cwd: root, runs: REPS, warmup: 1, dir: tmp, name: 'status'})
  const t = performance.now()
  const stop = await cleanups.pop()()
  log(`status: ${ms(result.median)} for ${INSTANCES} instances; stop took ${ms(performance.now() - t)}`)
  return {instances: INSTANCES, deployMs: deploy.ms, deployOk: deploy.ok, deployTrace: deploy.trace, statusTrace: one.trace, statusWall: one.ms, rows: rows.length, healthyRows, result, stopMs: stop.ms, stopOk: stop.ok}
}

/** hyperfine when installed (and when every run succeeds), else a plain loop that counts only successful runs. */
async function timeCommands(commands, opts) {
  if (has('hyperfine')) {
    try {
      return {tool: 'hyperfine', results: hyperfine(commands, opts).map((r) => ({...r, command: shown(r.command)}))}
    } catch (error) {
      notes.push(`${error.message}; timed with a plain loop instead`)
    }
  }
  return {tool: 'loop', results: (await loop(commands, opts)).map((r) => ({...r, command: shown(r.command)}))}
}

/** Ports below the kernel's ephemeral range: a replica must not find its port taken by some client's outgoing socket. */
async function freePortRange(count) {
  let low = 32_768
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low
  } catch {}
  for (let base = low - count - 500; base > 10_000; base -= count) {
    const free = await Promise.all(Array.from({length: count}, (_, i) => portFree(base + i)))
    if (free.every(Boolean)) return base
  }
  throw new Error(`no ${count} consecutive free ports below ${low}`)
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

// ---------------------------------------------------------------- BENCHMARKS.md

function stats(tool) {
  const ok = tool.runs.filter((r) => r.ok)
  const traces = ok.map((r) => r.trace).filter(Boolean)
  return {
    median: median(ok.map((r) => r.ms)),
    min: ok.length ? Math.min(...ok.map((r) => r.ms)) : undefined,
    max: ok.length ? Math.max(...ok.map((r) => r.ms)) : undefined,
    ok: ok.length,
    total: tool.runs.length,
    firstConnect: median(traces.map((x) => x.firstConnectMs)),
    fanOut: median(traces.map((x) => x.lastCloseMs - x.firstConnectMs)),
    teardown: median(traces.map((x) => x.exitMs - x.lastCloseMs)),
    rssMedian: median(traces.map((x) => x.maxRssKb)),
    rssMax: traces.length ? Math.max(...traces.map((x) => x.maxRssKb)) : undefined,
    failure: tool.runs.find((r) => !r.ok),
  }
}

function version(cmd, args) {
  const r = spawnSync(cmd, args, {encoding: 'utf8'})
  return r.error ? `${cmd} not installed` : (r.stdout || r.stderr).trim().split('\n')[0]
}

async function writeReport() {
  const L = []
  const set = Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_')).map(([k, v]) => `${k}=${v} `).join('')
  const verdicts = []
  L.push('# Benchmarks', '', 'Generated by `npm run bench` (bench/run.mjs); everything above the analysis marker is rewritten on each run.', '')
  L.push(`- command: \`${set}npm run bench\``)
  L.push(`- date: ${startedAt.toISOString()} · whole bench: ${ms(durationMs)}`)
  L.push(`- machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}; load average (1/5/15 min) at start ${loadStart.map((x) => x.toFixed(1)).join(' ')}, at end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; 1-min load as each section began: ${Object.entries(loads).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`)
  L.push(`- node ${process.version} · ${version('ssh', ['-V'])} · ${version('ansible', ['--version'])} · parallel-ssh ${version('parallel-ssh', ['--version'])} · ${version('hyperfine', ['--version'])}`)
  L.push(`- repetitions: ${REPS} (ansible: ${SLOW_REPS}), interleaved and rotated, after one warm-up run of each tool; medians of the successful runs`)
  L.push('- `bin/run.js` is run from a copy of the build (bin, dist, manifest) made at the start, so a rebuild elsewhere cannot break a run')
  for (const n of notes) L.push(`- note: ${n}`)
  L.push('')

  if (report.exec) {
    const {sizes, sshTrue, hosts} = report.exec
    L.push('## 1. Fan-out: `uptime` on N sshd hosts', '')
    L.push(`Real sshd processes on 127.0.0.2-${hosts + 1} (one per host, started by bench/sshd.mjs), ed25519 keys, a known_hosts file and an ssh_config shared by every tool. One \`ssh host1 true\`: **${ms(sshTrue)}** (median of ${REPS}).`, '')
    for (const [n, tools] of Object.entries(sizes)) {
      const floor = stats(tools.find((t) => t.id === 'minimal')).median
      L.push(`### ${n} hosts`, '', '| tool | command | median | min–max | vs minimal ssh2 | runs ok | peak RSS |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |')
      for (const t of tools) {
        if (t.skip) {
          L.push(`| ${t.label} | \`${t.shown}\` | ${t.skip} | | | | |`)
          continue
        }
        const s = stats(t)
        L.push(`| ${t.label} | \`${t.shown}\` | ${ms(s.median)} | ${ms(s.min)}–${ms(s.max)} | ${ratio(s.median, floor)} | ${s.ok}/${s.total} | ${t.node ? mb(s.rssMax) : ''} |`)
      }
      L.push('')
      for (const t of tools) {
        const f = !t.skip && stats(t).failure
        if (f) L.push(`- ${t.label} failed ${stats(t).total - stats(t).ok} time(s), e.g. exit ${f.code}: \`${f.tail.trim().split('\n').at(-1)}\``)
      }
      if (tools.some((t) => !t.skip && stats(t).failure)) L.push('')
    }
    const big = sizes[hosts]
    const floor = stats(big.find((t) => t.id === 'minimal'))
    L.push(`### Where the time goes at ${hosts} hosts`, '')
    L.push('From bench/trace.mjs in each node process (medians): *start* is process start to the first TCP connect (node, oclif, command, fleet file, ssh2 load), *fan-out* the first connect to the last socket closed, *teardown* the last close to exit. Peak RSS is the maximum over the runs.', '')
    L.push('| variant | median | vs minimal | start | fan-out | teardown | peak RSS (median / max) |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const t of big.filter((x) => x.node)) {
      const s = stats(t)
      L.push(`| ${t.label} | ${ms(s.median)} | ${ratio(s.median, floor.median)} | ${ms(s.firstConnect)} | ${ms(s.fanOut)} | ${ms(s.teardown)} | ${mb(s.rssMedian)} / ${mb(s.rssMax)} |`)
    }
    L.push('', 'Defaults of `fleet exec`: `--concurrency 16` (hosts worked on at once) and `ssh.max_startups` 10 (handshakes at once).', '')
    const f = stats(big.find((t) => t.id === 'fleet'))
    const r = f.median / floor.median
    verdicts.push([`fleet exec within ${TARGETS.execRatio}x of the minimal ssh2 script at ${hosts} hosts`, `${ratio(f.median, floor.median)} (${ms(f.median)} vs ${ms(floor.median)})`, r <= TARGETS.execRatio])
    verdicts.push([`fleet exec peak RSS < ${TARGETS.rssMb} MB at ${hosts} hosts`, `${mb(f.rssMax)} (max of ${f.ok} runs)`, f.rssMax / 1024 < TARGETS.rssMb])
  }

  if (report.cold) {
    const {results, tool, deployOk, healthy} = report.cold
    const bare = results[0].median
    L.push('## 2. Cold start', '', `${tool === 'hyperfine' ? 'hyperfine -N --export-json, 15 runs of each command pooled from 3 hyperfine calls in rotated order (3 warm-ups first)' : 'a plain loop (hyperfine is not installed): 3 warm-ups, then 15 runs of each command, alternating'}; \`status --json\` on the repo's demo fleet (deployed first with \`node bin/run.js deploy --yes\`${deployOk ? '' : ', which FAILED'}; healthy: ${healthy ?? 'unknown'}), stopped afterwards.`, '')
    L.push('| command | median | min–max | vs `node -e 0` |', '| --- | ---: | ---: | ---: |')
    for (const r of results) L.push(`| \`${r.command}\` | ${ms(r.median)} | ${ms(r.min)}–${ms(r.max)} | ${ratio(r.median, bare)} |`)
    const {version: v, status: s} = report.cold.traced
    if (v.length && s.length) {
      const m = (xs, f) => ms(median(xs.map(f)))
      L.push('', `Where the time goes (bench/trace.mjs, medians of ${s.length} alternating runs; ms since the process started, so node's own bootstrap before that and the process exit are in *outside*):`, '')
      L.push('| | `--version` | `status --json` |', '| --- | ---: | ---: |')
      L.push(`| start → first child process (CLI, command, fleet file) | ${m(v, (x) => x.exitMs)} (to exit) | ${m(s, (x) => x.firstSpawnMs)} |`)
      L.push(`| first child → last child exited (one \`sh\` observe per target; ${median(s.map((x) => x.spawns))} spawns, ${m(s, (x) => x.spawnBlockMs)} blocked in spawn()) | | ${m(s, (x) => x.lastExitMs - x.firstSpawnMs)} |`)
      L.push(`| → last health probe closed | | ${m(s, (x) => x.lastCloseMs - x.lastExitMs)} |`)
      L.push(`| → exit | | ${m(s, (x) => x.exitMs - x.lastCloseMs)} |`)
      L.push(`| outside (wall − traced) | ${m(v, (x) => x.wallMs - x.exitMs)} | ${m(s, (x) => x.wallMs - x.exitMs)} |`)
      L.push(`| wall | ${m(v, (x) => x.wallMs)} | ${m(s, (x) => x.wallMs)} |`)
    }
    L.push('')
    for (const r of results.slice(1)) verdicts.push([`\`${r.command.replace('node bin/run.js', 'fleet')}\` within ${TARGETS.coldRatio}x of bare node`, `${ratio(r.median, bare)} (${ms(r.median)} vs ${ms(bare)})`, r.median / bare <= TARGETS.coldRatio])
  }

  if (report.status) {
    const s = report.status
    const demo = report.cold?.results.find((r) => r.command.includes('status'))
    L.push(`## 3. Status over ${s.instances} instances`, '')
    L.push(`A generated fleet.yaml with ${s.instances} local instances of templates/demo-service, 1 replica each. \`deploy --yes --concurrency 32\` took ${ms(s.deployMs)}${s.deployOk ? '' : ' and FAILED'}; \`status --json\` reported ${s.rows} rows, ${s.healthyRows} healthy; \`stop --yes\` took ${ms(s.stopMs)}.`, '')
    L.push('| command | median | min–max | per instance | marginal per instance (vs the 2-instance demo) |', '| --- | ---: | ---: | ---: | ---: |')
    const marginal = demo ? (s.result.median - demo.median) / (s.instances - 2) : undefined
    L.push(`| \`status --json\` (${s.instances} instances, ${s.result.runs} runs) | ${ms(s.result.median)} | ${ms(s.result.min)}–${ms(s.result.max)} | ${(s.result.median / s.instances).toFixed(1)} ms | ${marginal === undefined ? '–' : `${marginal.toFixed(1)} ms`} |`, '')
    const spawned = (what, t, wall) => t && `${what}: ${t.spawns} child processes, the event loop blocked ${ms(t.spawnBlockMs)} inside spawn() (${(t.spawnBlockMs / Math.max(t.spawns, 1)).toFixed(1)} ms each) of ${ms(wall)}; peak RSS ${mb(t.maxRssKb)}.`
    for (const line of [spawned('One traced `deploy`', s.deployTrace, s.deployMs), spawned('One traced `status --json`', s.statusTrace, s.statusWall)]) if (line) L.push(`- ${line}`)
    L.push('')
  }

  if (verdicts.length) {
    L.push('## Targets', '', '| target | measured | |', '| --- | --- | --- |')
    for (const [what, measured, met] of verdicts) L.push(`| ${what} | ${measured} | ${met ? 'met' : '**missed**'} |`)
    L.push('')
  }

  if (report.exec) {
    L.push('<details><summary>Every run (ms)</summary>', '')
    for (const [n, tools] of Object.entries(report.exec.sizes)) {
      for (const t of tools) if (!t.skip) L.push(`- ${n} hosts, ${t.label}: ${t.runs.map((r) => (r.ok ? Math.round(r.ms) : `${Math.round(r.ms)} (failed)`)).join(', ')}`)
    }
    L.push('', '</details>', '')
  }

  const path = join(root, 'BENCHMARKS.md')
  const old = existsSync(path) ? await readFile(path, 'utf8') : ''
  const kept = old.includes(MARKER) ? old.slice(old.indexOf(MARKER)) : `${MARKER}\n\n## Analysis\n\n(none yet)\n`
  await writeFile(path, `${L.join('\n')}\n${kept}`)
}
