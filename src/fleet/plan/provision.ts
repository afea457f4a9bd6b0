import path from 'node:path'
import type {ListrTask} from 'listr2'
import {UsageError} from '../../errors.js'
import type {Machine, Provider} from '../../providers/types.js'
import {addressOf, type CloudDeps, describeLabels, factsOf, fleetPath, hasLabels, hostLabels, keyWithoutComment, LABEL, type ProviderFacts, requireCapabilities, type TaskRunner} from '../cloud.js'
import {entryFor, inScope, syncScope} from '../inventory.js'
import type {Fleet} from '../load.js'
import type {HostSpec} from '../schema.js'
import {renderTemplate} from '../template.js'

export interface HostObservation {
  host: string
  provider: string
  facts?: ProviderFacts
  /** The machine carrying this fleet's host labels. */
  machine?: Machine
  /** A machine with the host's name that is not this fleet's. */
  stranger?: Machine
}

/**
 * The named hosts (or every host whose provider creates machines) as their providers see them: one labeled list per
 * provider, and a lookup by name for hosts not found, so a same-named machine of someone else is seen too.
 */
export async function observeHosts(fleet: Fleet, deps: CloudDeps, names: string[]): Promise<HostObservation[]> {
  const hosts = fleet.spec.hosts
  for (const n of names) if (!hosts[n]) throw new UsageError(`unknown host "${n}"`, `hosts in ${path.basename(fleet.file)}: ${Object.keys(hosts).join(', ') || 'none'}`)
  const picked = names.length > 0 ? names : Object.keys(hosts)
  const providers = new Map<string, Provider | undefined>()
  for (const h of picked) if (!providers.has(hosts[h].provider)) providers.set(hosts[h].provider, await deps.provider(hosts[h].provider))
  const listed = new Map<string, Machine[]>()
  await Promise.all([...providers].filter(([, p]) => p?.machines).map(async ([name, p]) => listed.set(name, await p!.machines!.list({labels: {[LABEL.fleet]: deps.fleetId}}))))
  const out: HostObservation[] = []
  for (const host of picked) {
    const p = providers.get(hosts[host].provider)
    if (!p?.machines && names.length === 0) continue
    const machine = (listed.get(hosts[host].provider) ?? []).find(m => hasLabels(m, hostLabels(deps.fleetId, host)) && m.state !== 'deleting')
    const named = machine || !p?.machines ? undefined : await p.machines.get(host)
    out.push({host, provider: hosts[host].provider, facts: p && factsOf(p), machine, stranger: named && !hasLabels(named, hostLabels(deps.fleetId, host)) ? named : undefined})
  }
  return out
}

export interface ProvisionTarget {
  host: string
  provider: string
  action: 'create' | 'exists'
  type: string
  region: string
  image: string
  id?: string
  address?: string
  ssh: {port: number; user: string; identity?: string}
}

export interface ProvisionPlan {
  targets: ProvisionTarget[]
  changes: number
}

/** Creates what is missing; refuses, before anything runs, hosts that lack type/region/image or whose name a stranger holds. */
export function planProvision(fleet: Fleet, observed: HostObservation[]): ProvisionPlan {
  const problems: string[] = []
  const targets: ProvisionTarget[] = []
  for (const o of observed) {
    const h = fleet.spec.hosts[o.host]
    requireCapabilities(o.facts, o.provider, ['machines', 'sshKeys'], `create host ${o.host}`)
    const missing = (['type', 'region', 'image'] as const).filter(k => !h[k])
    if (missing.length > 0) problems.push(`hosts.${o.host}: a ${o.facts!.type} host needs ${missing.join(', ')} (the provider's machine type, region and image names)`)
    if (o.stranger) problems.push(`${o.provider} already has a machine named ${o.host} (id ${o.stranger.id}, ${describeLabels(o.stranger.labels)}) that is not this fleet's`)
    targets.push({host: o.host, provider: o.provider, action: o.machine ? 'exists' : 'create', type: h.type ?? '', region: h.region ?? '', image: h.image ?? '',
      id: o.machine?.id, address: o.machine && addressOf(o.machine), ssh: hostSsh(fleet, h)})
  }
  if (problems.length > 0) throw new UsageError(`cannot provision:\n  ${problems.join('\n  ')}`, 'fix fleet.yaml, or rename the host; fleet never adopts or changes machines without its labels')
  return {targets, changes: targets.filter(t => t.action === 'create').length}
}

function hostSsh(fleet: Fleet, h: HostSpec): ProvisionTarget['ssh'] {
  return {port: h.port ?? 22, user: h.user ?? 'root', ...(h.identity ? {identity: fleetPath(fleet, h.identity)} : {})}
}

export interface HostOutcome {
  host: string
  provider: string
  result: 'created' | 'exists' | 'failed'
  id?: string
  address?: string
  error?: string
}

/** One task per host, in parallel: create with the ssh key and cloud-init, wait for sshd, record it in the inventory. */
export async function executeProvision(plan: ProvisionPlan, fleet: Fleet, deps: CloudDeps, run: TaskRunner, opts: {sshTimeoutMs: number}): Promise<HostOutcome[]> {
  const keys = new Map<string, Promise<string>>()
  const keyFor = (p: Provider) => {
    if (!keys.has(p.name)) keys.set(p.name, deps.publicKey().then(k => p.sshKeys!.ensure(`fleet-${deps.fleetId}`, k)))
    return keys.get(p.name)!
  }
  const outcomes: HostOutcome[] = plan.targets.filter(t => t.action === 'exists').map(t => ({host: t.host, provider: t.provider, result: 'exists', id: t.id, address: t.address}))
  const tasks: ListrTask<{outcomes: HostOutcome[]}>[] = plan.targets.filter(t => t.action === 'create').map(t => ({
    title: `${t.host}: create on ${t.provider} (${t.type} in ${t.region}, ${t.image})`,
    task: async (ctx, task) => {
      const o: HostOutcome = {host: t.host, provider: t.provider, result: 'failed'}
      ctx.outcomes.push(o)
      try {
        const p = (await deps.provider(t.provider))!
        const [keyId, key, tpl] = await Promise.all([keyFor(p), deps.publicKey(), deps.template('host.yaml', fleet.spec.hosts[t.host].cloud_init)])
        const userData = renderTemplate(tpl.text, {fleet: deps.fleetId, name: t.host, user: t.ssh.user, port: t.ssh.port, public_key: keyWithoutComment(key)}, tpl.name)
        const [m] = await p.machines!.create([{name: t.host, type: t.type, region: t.region, image: t.image, sshKeys: [keyId], labels: hostLabels(deps.fleetId, t.host), userData}])
        Object.assign(o, {id: m.id, address: addressOf(m)})
        await deps.updateInventory(inv => syncScope(inv, {role: 'host', name: t.host}, [entryFor(m, {role: 'host', provider: t.provider, ...t.ssh})]))
        if (!o.address) throw new Error('the provider reports no public address')
        task.output = `waiting for ssh on ${o.address}:${t.ssh.port}`
        await deps.waitForSsh(t.host, o.address, t.ssh.port, opts.sshTimeoutMs)
        o.result = 'created'
      } catch (error) {
        o.error = (error as Error).message
        throw error
      }
    },
  }))
  const {ctx} = await run(tasks, {outcomes})
  await syncHosts(plan, deps)
  return ctx.outcomes.sort((a, b) => a.host.localeCompare(b.host, undefined, {numeric: true}))
}

/** Records the hosts that already existed (their addresses may have changed, or the inventory may be gone). */
export async function syncHosts(plan: ProvisionPlan, deps: CloudDeps): Promise<void> {
  const existing = plan.targets.filter(t => t.action === 'exists')
  if (existing.length === 0) return
  const machines = await Promise.all(existing.map(async t => ({t, m: await (await deps.provider(t.provider))!.machines!.get(t.id!)})))
  await deps.updateInventory(inv => {
    for (const {t, m} of machines) syncScope(inv, {role: 'host', name: t.host}, m ? [entryFor(m, {role: 'host', provider: t.provider, ...t.ssh})] : [])
  })
}

export interface DecommissionPlan {
  host: string
  provider: string
  action: 'delete' | 'none'
  machine?: {id: string; name: string; address?: string; type: string; region: string}
  changes: number
}

/** The provider of a host: from fleet.yaml, or from the inventory for a host already removed from the file. */
export async function decommissionProvider(fleet: Fleet, deps: CloudDeps, host: string): Promise<string> {
  const declared = fleet.spec.hosts[host]?.provider
  if (declared) return declared
  const entry = (await deps.readInventory()).machines.find(e => inScope(e, {role: 'host', name: host}))
  if (entry) return entry.provider
  throw new UsageError(`unknown host "${host}": not in ${path.basename(fleet.file)} and not in the inventory`, `hosts: ${Object.keys(fleet.spec.hosts).join(', ') || 'none'}`)
}

/** Deletes only a machine that carries this fleet's labels for exactly this host; a same-named stranger is refused. */
export function planDecommission(host: string, o: HostObservation): DecommissionPlan {
  requireCapabilities(o.facts, o.provider, ['machines'], `decommission ${host}`)
  if (!o.machine && o.stranger) {
    throw new UsageError(`refusing to decommission ${host}: the machine named ${host} on ${o.provider} (id ${o.stranger.id}) is not this fleet's (${describeLabels(o.stranger.labels)})`,
      `fleet only deletes machines labeled ${LABEL.fleet}=<this fleet> and ${LABEL.host}=${host}; delete it in the provider's console if you really mean to`)
  }
  const m = o.machine
  if (!m) return {host, provider: o.provider, action: 'none', changes: 0}
  return {host, provider: o.provider, action: 'delete', machine: {id: m.id, name: m.name, address: addressOf(m), type: m.type, region: m.region}, changes: 1}
}

export async function observeDecommission(fleet: Fleet, deps: CloudDeps, host: string, provider: string): Promise<HostObservation> {
  const p = await deps.provider(provider)
  const labels = hostLabels(deps.fleetId, host)
  const mine = ((await p?.machines?.list({labels})) ?? []).filter(m => hasLabels(m, labels) && m.state !== 'deleting')
  const named = mine[0] || !p?.machines ? undefined : await p.machines.get(host)
  return {host, provider, facts: p && factsOf(p), machine: mine[0], stranger: named && !hasLabels(named, labels) ? named : undefined}
}

export async function executeDecommission(plan: DecommissionPlan, deps: CloudDeps, run: TaskRunner): Promise<{deleted: boolean; error?: string}> {
  const p = (await deps.provider(plan.provider))!
  const m = plan.machine!
  const {errors} = await run([{title: `delete ${plan.host} (${m.id}${m.address ? `, ${m.address}` : ''}) on ${plan.provider}`, task: () => p.machines!.delete(m.id)}], {})
  if (errors.length === 0) await deps.updateInventory(inv => syncScope(inv, {role: 'host', name: plan.host}, []))
  return errors.length ? {deleted: false, error: errors[0].message} : {deleted: true}
}
