import {PROVIDERS, RUNTIMES} from '../providers/kinds.js'
import {closest, suggest} from './hints.js'
import {providerSchema} from './schema.js'

export interface ReferenceProblem {
  path: (string | number)[]
  message: string
  hint?: string
  atKey?: boolean
}

type Obj = Record<string, unknown>

const providerTypes = new Set<string>(providerSchema.shape.type.options)
const machineProviders = new Set(Object.keys(PROVIDERS).filter(t => PROVIDERS[t].holdsHosts))
const cloudProviders = new Set(['hetzner', 'digitalocean'])
const builtRuntimes = new Set(Object.keys(RUNTIMES).filter(r => RUNTIMES[r].built))

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const entries = (v: unknown): [string, Obj][] => (isObj(v) ? Object.entries(v).filter((e): e is [string, Obj] => isObj(e[1])) : [])
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const texts = (v: unknown): [number, string][] => (Array.isArray(v) ? [...v.entries()].filter((e): e is [number, string] => typeof e[1] === 'string') : [])
const int = (v: unknown): number | undefined => (Number.isInteger(v) ? (v as number) : undefined)

/**
 * Rules that span several entries: names that must exist, kinds that must match, ports that must not collide.
 * Takes the validated spec, or the raw document when the schema failed, so it reads every value defensively;
 * values of the wrong shape are the schema's to report.
 */
export function checkReferences(spec: unknown): ReferenceProblem[] {
  const problems: ReferenceProblem[] = []
  const root = isObj(spec) ? spec : {}
  const providers = isObj(root.providers) ? root.providers : {}
  const hosts = isObj(root.hosts) ? root.hosts : {}

  const refProvider = (path: (string | number)[], ref: unknown, kinds: Set<string>, what: string) => {
    if (typeof ref !== 'string') return
    if (!(ref in providers)) {
      const ofType = Object.keys(providers).find(name => closest(ref, [text((providers[name] as Obj | null)?.type) ?? '']))
      const hint = suggest(ref, Object.keys(providers)) ?? (ofType ? `name the provider, not its type: did you mean "${ofType}"?` : `declare it under providers:, e.g. ${ref}: {type: ${[...kinds][0]}}`)
      problems.push({path, message: `unknown provider "${ref}"`, hint})
      return
    }
    const type = text((providers[ref] as Obj | null)?.type)
    if (type && providerTypes.has(type) && !kinds.has(type)) problems.push({path, message: `provider "${ref}" is of type ${type}, which cannot ${what}`, hint: `use a provider of type ${orList([...kinds])}`})
  }

  for (const [name, host] of entries(hosts)) {
    refProvider(['hosts', name, 'provider'], host.provider, machineProviders, 'hold hosts')
    const provider = text(host.provider)
    const type = provider && isObj(providers[provider]) ? (providers[provider] as Obj).type : undefined
    if (typeof type === 'string' && PROVIDERS[type]?.needsAddress && host.address === undefined) problems.push({path: ['hosts', name], atKey: true, message: 'an ssh host needs an address', hint: 'e.g. address: 192.0.2.10 (or an alias from ~/.ssh/config)'})
  }

  const ports = new Map<string, {path: (string | number)[]; from: number; to: number}[]>()
  const domains = new Map<string, {instance: string; index: number}>()
  for (const [name, inst] of entries(root.instances)) {
    const base = ['instances', name]
    const runtime = text(inst.runtime)
    const listed = texts(inst.hosts)
    if (runtime && !builtRuntimes.has(runtime)) {
      problems.push({path: [...base, 'runtime'], message: `runtime ${runtime} is not available in this version of fleet`, hint: 'use runtime: local or runtime: ssh'})
    }
    const placement = runtime ? RUNTIMES[runtime]?.placement : undefined
    if (placement === 'hosts' && inst.hosts === undefined) problems.push({path: base, atKey: true, message: 'an ssh instance needs hosts', hint: 'e.g. hosts: [web-1]'})
    if (placement === 'this-machine' && inst.hosts !== undefined) problems.push({path: [...base, 'hosts'], atKey: true, message: 'a local instance runs on this machine and takes no hosts', hint: 'remove hosts:, or use runtime: ssh'})
    if (runtime) refProvider([...base, 'provider'], inst.provider, new Set([runtime]), `run runtime: ${runtime}`)

    const seen = new Set<string>()
    for (const [i, h] of listed) {
      if (!(h in hosts)) problems.push({path: [...base, 'hosts', i], message: `unknown host "${h}"`, hint: suggest(h, Object.keys(hosts)) ?? `declare it under hosts:, e.g. ${h}: {provider: lab, address: 192.0.2.10}`})
      else if (seen.has(h)) problems.push({path: [...base, 'hosts', i], message: `host "${h}" is listed twice`, hint: 'list each host once'})
      seen.add(h)
    }

    const places = placement === 'this-machine' ? ['this machine'] : placement === 'hosts' ? [...seen] : []
    for (const [svc, s] of entries(inst.services)) {
      const port = int(s.port)
      if (port === undefined) continue
      const range = {path: [...base, 'services', svc, 'port'], from: port, to: port + Math.max(int(s.replicas) ?? 1, 1) - 1}
      for (const where of places) {
        const taken = ports.get(where) ?? []
        const clash = taken.find(t => t.from <= range.to && range.from <= t.to)
        if (clash) problems.push({path: range.path, message: `${portRange(range)} overlap${range.from === range.to ? 's' : ''} ${clash.path.join('.')} (${portRange(clash)}) on ${where}`, hint: 'replicas listen on port, port+1, …: move one of the services'})
        ports.set(where, [...taken, range])
      }
    }

    for (const [i, d] of texts(inst.domains)) {
      const owner = domains.get(d)
      if (owner?.instance === name) problems.push({path: [...base, 'domains', i], message: `domain "${d}" is listed twice`, hint: 'list each domain once'})
      else if (owner) problems.push({path: [...base, 'domains', i], message: `domain "${d}" is already used by instances.${owner.instance}`, hint: 'a domain routes to one instance: remove it here or there'})
      else domains.set(d, {instance: name, index: i})
    }
    for (const [key, s] of entries(inst.secrets)) {
      const extra = ['length', 'alphabet'].find(k => s[k] !== undefined)
      if (s.source !== 'generate' && typeof s.source === 'string' && extra) problems.push({path: [...base, 'secrets', key, extra], atKey: true, message: `${extra} applies only to source: generate`, hint: 'remove it, or use source: generate'})
    }
  }

  for (const [name, pool] of entries(root.pools)) refProvider(['pools', name, 'provider'], pool.provider, cloudProviders, 'create runners')
  if (isObj(root.forge)) refProvider(['forge', 'provider'], root.forge.provider, cloudProviders, 'host the forge')
  return problems
}

function portRange(r: {from: number; to: number}): string {
  return r.from === r.to ? `port ${r.from}` : `ports ${r.from}-${r.to}`
}

function orList(words: string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`
}
