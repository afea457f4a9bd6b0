import type {Machine, Snapshot} from '../../../src/providers/types.js'

export const NOW = Date.parse('2026-03-01T12:00:00Z')
export const ago = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString()
export const ALL_CAPS = ['machines', 'snapshots', 'sshKeys', 'cost'] as const

export function machine(name: string, o: Partial<Machine> = {}): Machine {
  const n = Number(/\d+$/.exec(name)?.[0] ?? 0)
  return {id: String(1000 + n), name, state: 'running', type: 's-1vcpu-1gb', region: 'fra1', ipv4: `203.0.113.${n}`, labels: {}, createdAt: ago(10), ...o}
}

export function snapshot(name: string, minutesAgo: number, o: Partial<Snapshot> = {}): Snapshot {
  return {id: `s-${name}`, name, createdAt: ago(minutesAgo), sizeGb: 10, labels: {}, ...o}
}
