import {suggest} from './hints.js'
import type {FleetSpec} from './schema.js'

export interface ReferenceProblem {
  path: (string | number)[]
  message: string
  hint?: string
  atKey?: boolean
}

const machineProviders = new Set(['ssh', 'hetzner', 'digitalocean'])
const cloudProviders = new Set(['hetzner', 'digitalocean'])
const builtRuntimes = new Set(['local', 'ssh'])

/** Rules that span several entries: names that must exist, kinds that must match, ports that must not collide. */
export function checkReferences(spec: FleetSpec): ReferenceProblem[] {
  const problems: ReferenceProblem[] = []
  const providerNames = Object.keys(spec.providers)
  const hostNames = Object.keys(spec.hosts)

  const refProvider = (path: (string | number)[], ref: string, kinds: Set<string>, what: string) => {
    const p = spec.providers[ref]
    if (!p) problems.push({path, message: `unknown provider "${ref}"`, hint: suggest(ref, providerNames) ?? `declare it under providers:, e.g. ${ref}: {type: ${[...kinds][0]}}`})
    else if (!kinds.has(p.type)) problems.push({path, message: `provider "${ref}" is of type ${p.type}, which cannot ${what}`, hint: `use a provider of type ${[...kinds].join(' or ')}`})
  }

  for (const [name, host] of Object.entries(spec.hosts)) {
    refProvider(['hosts', name, 'provider'], host.provider, machineProviders, 'hold hosts')
    const type = spec.providers[host.provider]?.type
    if (type === 'ssh' && !host.address) problems.push({path: ['hosts', name], atKey: true, message: 'an ssh host needs an address', hint: 'e.g. address: 192.0.2.10 (or an alias from ~/.ssh/config)'})
  }

  const ports = new Map<string, {path: (string | number)[]; from: number; to: number}[]>()
  const domains = new Map<string, string>()
  for (const [name, inst] of Object.entries(spec.instances)) {
    const base = ['instances', name]
    if (!builtRuntimes.has(inst.runtime)) {
      problems.push({path: [...base, 'runtime'], message: `runtime ${inst.runtime} is not available in this version of fleet`, hint: 'use runtime: local or runtime: ssh'})
    }
    if (inst.runtime === 'ssh' && !inst.hosts) problems.push({path: base, atKey: true, message: 'an ssh instance needs hosts', hint: 'e.g. hosts: [web-1]'})
    if (inst.runtime === 'local' && inst.hosts) problems.push({path: [...base, 'hosts'], atKey: true, message: 'a local instance runs on this machine and takes no hosts', hint: 'remove hosts:, or use runtime: ssh'})
    if (inst.provider) refProvider([...base, 'provider'], inst.provider, new Set([inst.runtime]), `run a ${inst.runtime} instance`)
    const seen = new Set<string>()
    for (const [i, h] of (inst.hosts ?? []).entries()) {
      if (!spec.hosts[h]) problems.push({path: [...base, 'hosts', i], message: `unknown host "${h}"`, hint: suggest(h, hostNames) ?? 'declare it under hosts:'})
      else if (seen.has(h)) problems.push({path: [...base, 'hosts', i], message: `host "${h}" is listed twice`, hint: 'list each host once'})
      seen.add(h)
    }
    for (const [svc, s] of Object.entries(inst.services)) {
      for (const where of inst.runtime === 'local' ? ['local'] : inst.hosts ?? []) {
        const taken = ports.get(where) ?? []
        const range = {path: [...base, 'services', svc, 'port'], from: s.port, to: s.port + Math.max(s.replicas, 1) - 1}
        const clash = taken.find(t => t.from <= range.to && range.from <= t.to)
        if (clash) problems.push({path: range.path, message: `ports ${range.from}-${range.to} overlap ${clash.path.join('.')} (${clash.from}-${clash.to}) on ${where}`, hint: 'each replica takes port, port+1, …: move one of the services'})
        ports.set(where, [...taken, range])
      }
    }
    for (const [i, d] of (inst.domains ?? []).entries()) {
      const owner = domains.get(d)
      if (owner) problems.push({path: [...base, 'domains', i], message: `domain "${d}" is already used by instance ${owner}`, hint: 'a domain belongs to one instance'})
      domains.set(d, name)
    }
    for (const [key, s] of Object.entries(inst.secrets ?? {})) {
      if (s.source !== 'generate' && (s.length || s.alphabet)) problems.push({path: [...base, 'secrets', key, s.length ? 'length' : 'alphabet'], atKey: true, message: `length and alphabet apply only to source: generate`, hint: 'remove it, or use source: generate'})
    }
  }

  for (const [name, pool] of Object.entries(spec.pools ?? {})) refProvider(['pools', name, 'provider'], pool.provider, cloudProviders, 'create runners')
  if (spec.forge) refProvider(['forge', 'provider'], spec.forge.provider, cloudProviders, 'host the forge')
  return problems
}
