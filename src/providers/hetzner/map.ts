import {createHash} from 'node:crypto'
import type {Machine, Snapshot} from '../types.js'

type Price = {net: string; gross: string}
export interface HLocationPrice {
  location: string
  price_hourly: Price
  price_monthly: Price
}

/** The fields of a Hetzner Cloud Server payload that fleet reads. */
export interface HServer {
  id: number
  name: string
  status: string
  created: string
  public_net: {ipv4: {ip: string} | null; ipv6: {ip: string} | null}
  server_type: {name: string; prices?: HLocationPrice[]}
  location: {name: string}
  labels: Record<string, string>
}

export interface HAction {
  id: number
  command: string
  status: 'running' | 'success' | 'error'
  error: {code: string; message: string} | null
}

export interface HImage {
  id: number
  type: string
  status: string
  name: string | null
  description: string
  image_size: number | null
  created: string
  labels: Record<string, string>
}

export interface HSshKey {
  id: number
  name: string
  fingerprint: string
}

export interface HPricing {
  currency: string
  image: {price_per_gb_month: Price}
  server_types: {name: string; prices: HLocationPrice[]}[]
}

const STATES: Record<string, Machine['state']> = {
  running: 'running',
  initializing: 'new',
  starting: 'starting',
  rebuilding: 'starting',
  migrating: 'starting',
  stopping: 'stopping',
  off: 'off',
  deleting: 'deleting',
}

export function toMachine(s: HServer): Machine {
  const price = s.server_type.prices?.find(p => p.location === s.location.name)
  return {
    id: String(s.id),
    name: s.name,
    state: STATES[s.status] ?? 'unknown',
    type: s.server_type.name,
    region: s.location.name,
    // public_net.ipv6 is null for servers created without IPv6; ipv6.ip is a /64 network.
    ipv4: s.public_net.ipv4?.ip,
    ipv6: s.public_net.ipv6?.ip,
    labels: {...s.labels},
    createdAt: s.created,
    ...(price ? {hourly: Number(price.price_hourly.gross), monthly: Number(price.price_monthly.gross)} : {}),
  }
}

/** A Hetzner snapshot has no name of its own, so fleet keeps the snapshot's name in the description. */
export function toSnapshot(i: HImage): Snapshot {
  return {
    id: String(i.id),
    name: i.description,
    createdAt: i.created,
    ...(i.image_size === null ? {} : {sizeGb: i.image_size}),
    labels: {...i.labels},
  }
}

/** `k=v` pairs joined with commas; a label with an empty value selects on the key alone. */
export function labelSelector(labels: Record<string, string> = {}): string | undefined {
  const parts = Object.entries(labels).map(([k, v]) => (v === '' ? k : `${k}=${v}`))
  return parts.length > 0 ? parts.join(',') : undefined
}

export function serverTypePrice(p: HPricing, type: string, location: string): {monthly: number; hourly: number; currency: string} | undefined {
  const price = p.server_types.find(t => t.name === type)?.prices.find(l => l.location === location)
  if (!price) return undefined
  return {monthly: Number(price.price_monthly.gross), hourly: Number(price.price_hourly.gross), currency: p.currency}
}

/** The MD5 fingerprint Hetzner lists keys by (aa:bb:…), from an OpenSSH public key line. */
export function md5Fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? '', 'base64')
  return createHash('md5').update(blob).digest('hex').match(/../g)!.join(':')
}

export function hasLabels(have: Record<string, string>, want: Record<string, string> = {}): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v)
}
