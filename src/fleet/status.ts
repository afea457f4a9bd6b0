import type {TargetStatus} from '../providers/runtime.js'

export interface StatusRow {
  instance: string
  runtime: string
  host: string
  release: string | null
  previous: string | null
  health: 'ok' | 'degraded' | 'down' | 'unreachable' | 'not deployed'
  /** Median health latency over the healthy replicas, in ms. */
  latencyMs: number | null
  replicas: {up: number; healthy: number; desired: number}
  detail: {replica: string; port: number; process: string; healthy: boolean; latencyMs: number; version?: string; error?: string}[]
  error?: string
}

/** A target's observation as one table row. Pure. */
export function statusRow(s: TargetStatus): StatusRow {
  const {target} = s
  const base = {instance: target.instance, runtime: target.runtime, host: target.host, release: s.current ?? null, previous: s.previous ?? null}
  if (!s.reachable) return {...base, health: 'unreachable', latencyMs: null, replicas: {up: 0, healthy: 0, desired: 0}, detail: [], error: s.error}
  const healthy = s.replicas.filter(r => r.health.ok)
  const up = s.replicas.filter(r => r.process === 'up').length
  const latencies = healthy.map(r => r.health.latencyMs).sort((a, b) => a - b)
  const health = !s.current && up === 0 ? 'not deployed' : healthy.length === s.replicas.length && s.replicas.length > 0 ? 'ok' : healthy.length === 0 ? 'down' : 'degraded'
  const firstError = s.replicas.find(r => !r.health.ok)
  return {
    ...base,
    health,
    latencyMs: latencies.length ? latencies[Math.floor(latencies.length / 2)] : null,
    replicas: {up, healthy: healthy.length, desired: s.replicas.length},
    detail: s.replicas.map(r => ({replica: `${r.service}-${r.index}`, port: r.port, process: r.process, healthy: r.health.ok, latencyMs: r.health.latencyMs, version: r.health.version, error: r.health.error})),
    error: firstError ? `${firstError.service}-${firstError.index}: ${firstError.health.error}` : undefined,
  }
}
