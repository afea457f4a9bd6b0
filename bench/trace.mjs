// Loaded with `node --import ./bench/trace.mjs` into the node processes the bench profiles (fleet and the minimal
// ssh2 script alike). At exit it writes to $BENCH_TRACE, in ms since the process started: the first TCP connect and
// the last socket close, the first child process spawned, the last one exited and the time the event loop spent
// blocked inside spawn(), and the peak RSS (getrusage ru_maxrss: the figure of VmHWM and /usr/bin/time %M).
import {ChildProcess} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import net from 'node:net'

const out = process.env.BENCH_TRACE
if (out) {
  const t = {sockets: 0, spawns: 0, spawnBlockMs: 0}
  const connect = net.Socket.prototype.connect
  net.Socket.prototype.connect = function (...args) {
    t.firstConnectMs ??= performance.now()
    t.sockets++
    this.once('close', () => (t.lastCloseMs = Math.max(t.lastCloseMs ?? 0, performance.now())))
    return connect.apply(this, args)
  }
  const spawn = ChildProcess.prototype.spawn
  ChildProcess.prototype.spawn = function (...args) {
    const started = performance.now()
    t.firstSpawnMs ??= started
    t.spawns++
    this.once('exit', () => (t.lastExitMs = Math.max(t.lastExitMs ?? 0, performance.now())))
    try {
      return spawn.apply(this, args)
    } finally {
      t.spawnBlockMs += performance.now() - started
    }
  }
  process.once('exit', () => writeFileSync(out, JSON.stringify({...t, exitMs: performance.now(), maxRssKb: process.resourceUsage().maxRSS})))
}
