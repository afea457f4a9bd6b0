import type {Target} from '../fleet/targets.js'
import type {ReplicaRef} from '../fleet/release.js'
import type {Secret} from '../secret.js'
import type {Probe} from '../transport/health.js'
import type {ExecResult} from '../transport/types.js'

export interface ReplicaStatus extends ReplicaRef {
  process: 'up' | 'down' | 'absent'
  pid?: number
  health: Probe
}

/** What a runtime sees on one target, read-only. */
export interface TargetStatus {
  target: Target
  reachable: boolean
  error?: string
  current?: string
  previous?: string
  releases: string[]
  replicas: ReplicaStatus[]
  /** Processes left from replicas no longer declared (after a scale-down). */
  strays: string[]
}

export interface ReleaseSource {
  version: string
  /** The packed release, streamed to each target once. */
  archive: () => Promise<Buffer>
  install?: string[]
  keep: number
}

/**
 * How an instance's targets are changed. Host runtimes (local, ssh) implement it over a transport;
 * managed runtimes implement the same steps with their own primitives (a task definition, a service update).
 */
export interface InstanceRuntime {
  observe(target: Target, signal?: AbortSignal): Promise<TargetStatus>
  /** Makes the release available on the target without switching to it. */
  prepare(target: Target, release: ReleaseSource, signal?: AbortSignal): Promise<void>
  /** Switches the target to `version`; returns what it ran before. */
  activate(target: Target, version: string, signal?: AbortSignal): Promise<string | undefined>
  /** Restarts one replica on the active release and waits for it to be healthy; returns the last probe. */
  restart(target: Target, replica: ReplicaRef, signal?: AbortSignal): Promise<Probe>
  /** Starts a replica if it is not running and waits for health. */
  start(target: Target, replica: ReplicaRef, signal?: AbortSignal): Promise<Probe>
  stop(target: Target, replica: Pick<ReplicaRef, 'service' | 'index'>, signal?: AbortSignal): Promise<void>
  stopAll(target: Target, signal?: AbortSignal): Promise<string[]>
  /** Stops everything and forgets the active release (a first release that failed). */
  deactivate(target: Target, signal?: AbortSignal): Promise<void>
  /** Runs a one-off command (migration, status query, secret apply) with the instance environment; `env` travels on stdin. */
  runTask(target: Target, argv: string[], opts: {in: 'current' | {release: string}; env?: Map<string, Secret>; signal?: AbortSignal}): Promise<ExecResult>
  /** The instance's secrets as the target holds them. */
  readSecrets(target: Target, signal?: AbortSignal): Promise<Map<string, Secret>>
  /** Replaces the secrets, keeping the previous set until `retireSecrets` or `restoreSecrets`. */
  writeSecrets(target: Target, values: Map<string, Secret>, signal?: AbortSignal): Promise<void>
  restoreSecrets(target: Target, signal?: AbortSignal): Promise<void>
  retireSecrets(target: Target, signal?: AbortSignal): Promise<void>
  /** Marks the version healthy on the target and prunes old releases. */
  record(target: Target, version: string, keep: number, signal?: AbortSignal): Promise<void>
  close(): Promise<void>
}
