/**
 * The release model as data: every step on a target is an argv list built here and run by a transport.
 * Scripts are constants; everything variable travels as positional arguments, so nothing needs escaping.
 * Layout under an instance root: releases/<version>/, current -> releases/<version>, shared/env (0600),
 * run/<service>-<i>.pid, logs/<service>-<i>.log, history (one healthy version a line).
 */

export interface ReplicaRef {
  service: string
  index: number
  port: number
}

// A relative root is made absolute under $HOME, wherever the session starts (sshd starts it in the passwd home).
const ABSOLUTE_ROOT = 'case "$1" in /*) ;; *) r="$HOME/$1"; shift; set -- "$r" "$@";; esac'
const sh = (script: string, name: string, args: (string | number)[]): string[] => ['sh', '-c', `${ABSOLUTE_ROOT}\n${script}`, name, ...args.map(String)]

// A zombie answers kill -0; read its state from /proc without spawning anything, or from ps where /proc is absent (macOS).
const ALIVE = `alive() { kill -0 "$1" 2>/dev/null || return 1
if [ -r "/proc/$1/stat" ]; then read -r s <"/proc/$1/stat"; case "$s" in *") Z "*) return 1;; esac; return 0; fi
! ps -o stat= -p "$1" 2>/dev/null | grep -q '^Z'; }`

/**
 * Unpacks a gzipped tar from stdin into releases/<version>, runs the install step there, then marks the release
 * complete (an incomplete release is never switched to). A complete release is left as it is.
 */
export function prepareRelease(root: string, version: string, install: string[] | undefined): string[] {
  return sh(`set -e; root=$1; d="$1/releases/$2"; shift 2
if [ -f "$d/.fleet-complete" ]; then cat >/dev/null; echo present; exit 0; fi
rm -rf "$d" "$d.tmp"; mkdir -p "$d.tmp" "$root/shared" "$root/run" "$root/logs"; tar -xzf - -C "$d.tmp"; mv "$d.tmp" "$d"
cd "$d"; if [ $# -gt 0 ]; then "$@"; fi; touch .fleet-complete; echo installed`, 'fleet-prepare', [root, version, ...(install ?? [])])
}

/** Atomically points `current` at a release; prints the version it pointed at before (or nothing). */
export function switchRelease(root: string, version: string): string[] {
  return sh(`set -e; cd "$1"; [ -f "releases/$2/.fleet-complete" ] || { echo "release $2 is not installed" >&2; exit 3; }
old=$(readlink current 2>/dev/null || true); ln -sfn "releases/$2" .current.tmp; mv -fT .current.tmp current 2>/dev/null || mv -f .current.tmp current; echo "\${old##*/}"`,
  'fleet-switch', [root, version])
}

/** Removes `current`: after a failed first release the target is "not deployed", not "on a broken release". */
export function clearCurrent(root: string): string[] {
  return sh(`rm -f "$1/current"`, 'fleet-clear', [root])
}

// Replica scripts share these bodies; they expect root, svc, i (and port, bind, cmd, inst, grace) set, env pairs in "$@".
const STOP = `pidf="$root/run/$svc-$i.pid"
if [ -f "$pidf" ]; then read -r pid <"$pidf"; n=0
kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
while alive "$pid" && [ $n -lt $((grace * 10)) ]; do sleep 0.1; n=$((n + 1)); done
alive "$pid" && { kill -KILL -"$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; }
rm -f "$pidf"; echo stopped; fi`
const START = `pidf="$root/run/$svc-$i.pid"; mkdir -p "$root/run" "$root/logs"
if [ -f "$pidf" ] && read -r pid <"$pidf" && alive "$pid"; then echo running; exit 0; fi
cd "$root/current" || exit 3; ver=$(pwd -P)
if [ -f "$root/shared/env" ]; then set -a; . "$root/shared/env"; set +a; fi
for kv in "$@"; do export "$kv"; done
export PORT="$port" HOST="$bind" FLEET_BIND="$bind" FLEET_INSTANCE="$inst" FLEET_VERSION="\${ver##*/}" FLEET_SERVICE="$svc" FLEET_REPLICA="$i"
nohup setsid sh -c "exec $cmd" >>"$root/logs/$svc-$i.log" 2>&1 </dev/null &
echo $! >"$pidf"; echo started`

export interface ReplicaLaunch {
  instance: string
  bind: string
  command: string
  env?: Record<string, string>
}

const envPairs = (env: Record<string, string> = {}) => Object.entries(env).map(([k, v]) => `${k}=${v}`)

/** Starts one replica detached (own session, pid file, log file) unless its pid file names a live process. */
export function startReplica(root: string, r: ReplicaRef, l: ReplicaLaunch): string[] {
  return sh(`${ALIVE}\nroot=$1 svc=$2 i=$3 port=$4 bind=$5 cmd=$6 inst=$7; shift 7\n${START}`, 'fleet-start', [root, r.service, r.index, r.port, l.bind, l.command, l.instance, ...envPairs(l.env)])
}

/** Stops one replica's process group: TERM, up to `graceSeconds`, then KILL. A missing replica is a no-op. */
export function stopReplica(root: string, r: Pick<ReplicaRef, 'service' | 'index'>, graceSeconds = 10): string[] {
  return sh(`${ALIVE}\nroot=$1 svc=$2 i=$3 grace=$4\n${STOP}`, 'fleet-stop', [root, r.service, r.index, graceSeconds])
}

/** Stop then start in one round trip: what a rolling restart does to each replica. */
export function restartReplica(root: string, r: ReplicaRef, l: ReplicaLaunch, graceSeconds = 10): string[] {
  return sh(`${ALIVE}\nroot=$1 svc=$2 i=$3 port=$4 bind=$5 cmd=$6 inst=$7 grace=$8; shift 8\n${STOP}\n${START}`, 'fleet-restart', [root, r.service, r.index, r.port, l.bind, l.command, l.instance, graceSeconds, ...envPairs(l.env)])
}

/** Stops every replica of the instance, including ones no longer declared (pid files left by a scale-down). */
export function stopAll(root: string, graceSeconds = 10): string[] {
  return sh(`${ALIVE}
for pidf in "$1"/run/*.pid; do [ -f "$pidf" ] || continue; pid=$(cat "$pidf"); n=0
kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
while alive "$pid" && [ $n -lt $(($2 * 10)) ]; do sleep 0.1; n=$((n + 1)); done
alive "$pid" && { kill -KILL -"$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; }
rm -f "$pidf"; echo "stopped \${pidf##*/}"; done`, 'fleet-stop-all', [root, graceSeconds])
}

/** Records a version as healthy and prunes old releases, never the current one or the last healthy ones. */
export function recordRelease(root: string, version: string, keep: number): string[] {
  return sh(`set -e; cd "$1"; echo "$2" >>history; tail -n 50 history >history.tmp; mv history.tmp history
cur=$(readlink current 2>/dev/null || true); cur=\${cur##*/}; n=0
for r in $(ls -1t releases 2>/dev/null); do case "$r" in *.tmp) continue;; esac; n=$((n + 1))
if [ $n -gt "$3" ] && [ "$r" != "$cur" ] && ! tail -n 2 history | grep -qx "$r"; then rm -rf "releases/$r"; fi; done`,
  'fleet-record', [root, version, keep])
}

/**
 * One round trip that reports the release state and every replica's process of several instance roots on one
 * machine (status batches every target a transport reaches); parsed by parseObservations. Shell builtins only:
 * each spawned tool would cost milliseconds per target.
 */
export function observeTargets(entries: {root: string; replicas: Pick<ReplicaRef, 'service' | 'index'>[]}[]): string[] {
  return sh(`${ALIVE}
while [ $# -gt 0 ]; do root=$1; n=$2; shift 2; case "$root" in /*) ;; *) root="$HOME/$root";; esac
echo "target"; cur=$(cd -P "$root/current" 2>/dev/null && pwd); echo "current \${cur##*/}"
printf 'releases'; for d in "$root"/releases/*/; do d=\${d%/}; d=\${d##*/}; case "$d" in '*'|*.tmp) ;; *) printf ' %s' "$d";; esac; done; echo
printf 'history'; if [ -f "$root/history" ]; then while IFS= read -r l; do printf ' %s' "$l"; done <"$root/history"; fi; echo
for pidf in "$root"/run/*.pid; do [ -f "$pidf" ] || continue; p=\${pidf##*/}; read -r pid <"$pidf"
if alive "$pid"; then echo "proc \${p%.pid} up $pid"; else echo "proc \${p%.pid} down $pid"; fi; done
while [ "$n" -gt 0 ]; do [ -f "$root/run/$1.pid" ] || echo "proc $1 absent"; shift; n=$((n - 1)); done; done`,
  'fleet-observe', entries.flatMap(e => [e.root, e.replicas.length, ...e.replicas.map(r => `${r.service}-${r.index}`)]))
}

/**
 * Runs a one-off command (a migration, a status query, a secret's apply step) in the current release or in an
 * installed one, with the instance environment loaded. Extra environment arrives on stdin as KEY='value' lines
 * (read with cat: node's stdio is a socket, which /dev/stdin cannot open).
 */
export function runInRelease(root: string, where: {release: string} | 'current', argv: string[]): string[] {
  const dir = where === 'current' ? 'current' : `releases/${where.release}`
  return sh(`cd "$1/$2" || exit 3; if [ -f "$1/shared/env" ]; then set -a; . "$1/shared/env"; set +a; fi
if [ ! -t 0 ]; then set -a; eval "$(cat)"; set +a; fi; shift 2; exec "$@"`, 'fleet-run', [root, dir, ...argv])
}

/** Prints the instance env file (secrets: the caller keeps this output out of logs). */
export function readEnv(root: string): string[] {
  return sh(`[ -f "$1/shared/env" ] && cat "$1/shared/env" || true`, 'fleet-env-read', [root])
}

/** Replaces the env file with stdin (mode 0600), keeping the previous one as env.old until retired or restored. */
export function writeEnv(root: string): string[] {
  return sh(`set -e; umask 077; mkdir -p "$1/shared"; cat >"$1/shared/env.tmp"
if [ -f "$1/shared/env" ] && [ ! -f "$1/shared/env.old" ]; then cp -p "$1/shared/env" "$1/shared/env.old"; fi
chmod 600 "$1/shared/env.tmp"; mv -f "$1/shared/env.tmp" "$1/shared/env"`, 'fleet-env-write', [root])
}

export function restoreEnv(root: string): string[] {
  return sh(`if [ -f "$1/shared/env.old" ]; then mv -f "$1/shared/env.old" "$1/shared/env"; fi`, 'fleet-env-restore', [root])
}

export function retireEnv(root: string): string[] {
  return sh(`rm -f "$1/shared/env.old"`, 'fleet-env-retire', [root])
}

export interface TargetObservation {
  current?: string
  releases: string[]
  history: string[]
  processes: Record<string, {up: boolean; pid?: number}>
}

export function parseObservations(stdout: string): TargetObservation[] {
  const all: TargetObservation[] = []
  for (const line of stdout.split('\n')) {
    const [kind, ...rest] = line.trim().split(/\s+/)
    const obs = all.at(-1)
    if (kind === 'target') all.push({releases: [], history: [], processes: {}})
    else if (!obs) continue
    else if (kind === 'current') obs.current = rest[0] || undefined
    else if (kind === 'releases') obs.releases = rest.filter(Boolean)
    else if (kind === 'history') obs.history = rest.filter(Boolean)
    else if (kind === 'proc' && rest[0]) obs.processes[rest[0]] = {up: rest[1] === 'up', pid: rest[2] ? Number(rest[2]) : undefined}
  }
  return all
}

/** The release to go back to: the newest healthy one in history that is not current and still installed. */
export function previousRelease(obs: TargetObservation): string | undefined {
  return [...obs.history].reverse().find(v => v !== obs.current && obs.releases.includes(v))
}

/** Replica i of a service listens on port + i. */
export function replicasOf(services: Record<string, {port: number; replicas: number}>): ReplicaRef[] {
  return Object.entries(services).flatMap(([service, s]) => Array.from({length: s.replicas}, (_, index) => ({service, index, port: s.port + index})))
}
