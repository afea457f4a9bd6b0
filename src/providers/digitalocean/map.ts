import type {Machine, Snapshot} from '../types.js'

/** The fields of a DigitalOcean Droplet payload that fleet reads. */
export interface DDroplet {
  id: number
  name: string
  status: string
  created_at: string
  size_slug: string
  size?: {price_monthly: number; price_hourly: number}
  region: {slug: string}
  networks: {v4?: {ip_address?: string; type?: string}[]; v6?: {ip_address?: string; type?: string}[]}
  tags: string[]
}

export interface DAction {
  id: number
  status: 'in-progress' | 'completed' | 'errored'
  type: string
}

/** A snapshot from /v2/snapshots (string id) or /v2/droplets/{id}/snapshots (integer id). */
export interface DSnapshot {
  id: string | number
  name: string
  created_at: string
  size_gigabytes: number
  tags?: string[] | null
}

export interface DSize {
  slug: string
  price_monthly: number
  price_hourly: number
}

const STATES: Record<string, Machine['state']> = {new: 'new', active: 'running', off: 'off', archive: 'deleting'}

export function toMachine(d: DDroplet): Machine {
  const pub = (list?: {ip_address?: string; type?: string}[]) => list?.find(n => n.type === 'public')?.ip_address
  return {
    id: String(d.id),
    name: d.name,
    state: STATES[d.status] ?? 'unknown',
    type: d.size_slug,
    region: d.region.slug,
    ipv4: pub(d.networks.v4),
    ipv6: pub(d.networks.v6),
    labels: tagsToLabels(d.tags),
    createdAt: d.created_at,
    ...(d.size ? {hourly: d.size.price_hourly, monthly: d.size.price_monthly} : {}),
  }
}

export function toSnapshot(s: DSnapshot): Snapshot {
  return {id: String(s.id), name: s.name, createdAt: s.created_at, sizeGb: s.size_gigabytes, labels: tagsToLabels(s.tags ?? [])}
}

/** DigitalOcean has tags, not labels: a label k=v is the tag "k:v", and k="" is the tag "k". */
export function labelsToTags(labels: Record<string, string> = {}): string[] {
  return Object.entries(labels).map(([k, v]) => (v === '' ? k : `${k}:${v}`))
}

export function tagsToLabels(tags: string[]): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const t of tags) {
    const i = t.indexOf(':')
    if (i < 0) labels[t] = ''
    else labels[t.slice(0, i)] = t.slice(i + 1)
  }
  return labels
}

/** Two OpenSSH public key lines name the same key when type and key data match; the comment does not count. */
export function sameKey(a: string, b: string): boolean {
  const norm = (k: string) => k.trim().split(/\s+/).slice(0, 2).join(' ')
  return norm(a) === norm(b)
}

/** The page number in a links.pages.next URL, or undefined on the last page. */
export function nextPage(links: {pages?: {next?: string}} | undefined, current: number): number | undefined {
  const next = links?.pages?.next
  if (!next) return undefined
  const page = Number(new URL(next).searchParams.get('page'))
  return page > current ? page : undefined
}
