/** Names of the provider types a fleet.yaml may declare. */
export type ProviderType = 'local' | 'ssh' | 'hetzner' | 'digitalocean' | 'aws-ecs' | 'railway'

export type Capability = 'machines' | 'snapshots' | 'sshKeys' | 'cost' | 'scale' | 'secrets' | 'exec'

/** Injected into every adapter: adapters never read process.env or the clock directly. */
export interface ProviderDeps {
  signal?: AbortSignal
  log?: (line: string) => void
  clock?: {now(): number; sleep(ms: number, signal?: AbortSignal): Promise<void>}
}

/** A machine as every cloud adapter reports it. */
export interface Machine {
  id: string
  name: string
  /** Provider state mapped to one vocabulary. */
  state: 'new' | 'starting' | 'running' | 'off' | 'stopping' | 'deleting' | 'unknown'
  type: string
  region: string
  ipv4?: string
  ipv6?: string
  labels: Record<string, string>
  createdAt: string
  /** Hourly price in the account's currency, when known. */
  hourly?: number
  monthly?: number
}

export interface MachineSpec {
  name: string
  type: string
  region: string
  /** An image slug/name or a snapshot id. */
  image: string
  sshKeys: string[]
  labels: Record<string, string>
  userData?: string
}

/** Creating, listing and deleting machines. Creates are idempotent by name. */
export interface MachineOps {
  list(filter: {labels?: Record<string, string>}): Promise<Machine[]>
  get(idOrName: string): Promise<Machine | undefined>
  /** Creates every spec whose name does not exist yet; returns all of them once they are running. */
  create(specs: MachineSpec[]): Promise<Machine[]>
  /** Deleting a machine that does not exist is a no-op. */
  delete(id: string): Promise<void>
  /** How many more machines the account may create, when the provider says. */
  remainingQuota?(): Promise<number | undefined>
}

export interface Snapshot {
  id: string
  name: string
  createdAt: string
  sizeGb?: number
  labels: Record<string, string>
}

export interface SnapshotOps {
  list(filter: {labels?: Record<string, string>; namePrefix?: string}): Promise<Snapshot[]>
  /** Snapshots a machine and waits until the snapshot is complete; throws when it fails. */
  create(machineId: string, name: string, labels: Record<string, string>): Promise<Snapshot>
  delete(id: string): Promise<void>
}

export interface SshKeyOps {
  /** Returns the provider id of a public key, uploading it under `name` when it is missing. */
  ensure(name: string, publicKey: string): Promise<string>
}

export interface CostOps {
  /** Monthly price of a machine type in a region (gross, the provider's currency). */
  monthly(type: string, region: string): Promise<{monthly: number; hourly: number; currency: string} | undefined>
  /** Monthly price of keeping a snapshot of `sizeGb`. */
  snapshotMonthly?(sizeGb: number): Promise<number | undefined>
}

export interface TargetRef {
  kind: 'machine' | 'instance'
  name: string
  id?: string
}

export interface TargetState {
  name: string
  exists: boolean
  state: string
  detail?: Record<string, unknown>
}

/**
 * A provider adapter. `status` is required and read-only; every optional sub-object is a capability,
 * and its presence is what the plan builders check.
 */
export interface Provider {
  readonly name: string
  readonly type: ProviderType
  readonly capabilities: ReadonlySet<Capability>
  status(target: TargetRef, signal?: AbortSignal): Promise<TargetState>
  machines?: MachineOps
  snapshots?: SnapshotOps
  sshKeys?: SshKeyOps
  cost?: CostOps
}

export function capabilitiesOf(p: Omit<Provider, 'capabilities'>): ReadonlySet<Capability> {
  const caps = new Set<Capability>()
  for (const c of ['machines', 'snapshots', 'sshKeys', 'cost'] as const) if (p[c]) caps.add(c)
  return caps
}

/** A cloud adapter's status: the machine found by id or name, or absent. */
export function machineStatus(target: TargetRef, m: Machine | undefined): TargetState {
  if (!m) return {name: target.name, exists: false, state: 'absent'}
  return {name: target.name, exists: true, state: m.state, detail: {id: m.id, type: m.type, region: m.region, ipv4: m.ipv4, ipv6: m.ipv6}}
}
