import {z} from 'zod'

const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a name of lowercase letters, digits and dashes')
/** A duration such as `30s`, `500ms`, `5m` or a number of seconds. */
const duration = z.union([z.number().nonnegative(), z.string().regex(/^\d+(ms|s|m|h)$/, 'a duration like 30s or 5m')], {error: 'expected a duration like 30s or 5m'})
/** `${env:NAME}` or `vault:NAME`: a reference resolved late, never a literal token. */
const secretRef = z.string().regex(/^(\$\{env:[A-Za-z_][A-Za-z0-9_]*\}|vault:[A-Za-z0-9._-]+)$/, 'a reference like ${env:HCLOUD_TOKEN} or vault:do-token')
const argv = z.union([z.string().min(1), z.array(z.string()).min(1)], {error: 'expected a command string or a list of arguments'})

/** A credentials-bearing account: a cloud, a PaaS, or plain ssh/local. */
export const providerSchema = z.strictObject({
  type: z.enum(['local', 'ssh', 'hetzner', 'digitalocean', 'aws-ecs', 'railway']),
  token: secretRef.optional(),
  endpoint: z.url().optional(),
  region: z.string().optional(),
})

/** A machine: reached over ssh, or created by its cloud provider. */
export const hostSchema = z.strictObject({
  provider: name,
  address: z.string().min(1).optional(),
  user: z.string().optional(),
  port: z.int().min(1).max(65535).optional(),
  identity: z.string().optional(),
  proxy: z.string().optional(),
  labels: z.array(z.string()).optional(),
  /** Address services bind to and health checks use; defaults to `address`. */
  bind: z.string().optional(),
  type: z.string().optional(),
  region: z.string().optional(),
  image: z.string().optional(),
  root: z.string().optional(),
  /** Cloud hosts: a cloud-init template (fleet-relative) instead of templates/cloud-init/host.yaml. */
  cloud_init: z.string().optional(),
})

export const healthSchema = z.strictObject({
  path: z.string().startsWith('/').default('/health'),
  expect: z.int().min(100).max(599).default(200),
  timeout: duration.default('5s'),
  interval: duration.default('200ms'),
  /** How long a fresh replica may take to become healthy. */
  grace: duration.default('15s'),
})

export const serviceSchema = z.strictObject({
  start: z.string().min(1),
  port: z.int().min(1).max(65535),
  replicas: z.int().min(0).max(64).default(1),
  health: healthSchema.default({path: '/health', expect: 200, timeout: '5s', interval: '200ms', grace: '15s'}),
  env: z.record(z.string(), z.string()).optional(),
})

export const secretSchema = z.strictObject({
  source: z.enum(['vault', 'env', 'generate']),
  name: z.string().optional(),
  length: z.int().min(8).max(4096).optional(),
  alphabet: z.string().min(2).optional(),
  apply: argv.optional(),
})

export const instanceSchema = z.strictObject({
  runtime: z.enum(['local', 'ssh', 'aws-ecs', 'railway']),
  provider: name.optional(),
  hosts: z.array(name).min(1).optional(),
  root: z.string().optional(),
  release: z.strictObject({
    source: z.string().min(1),
    version: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dots, dashes and underscores, like 1.4.2').optional(),
    install: argv.optional(),
    keep: z.int().min(2).max(50).default(5),
  }),
  services: z.record(name, serviceSchema).refine(s => Object.keys(s).length > 0, 'at least one service'),
  rollout: z.strictObject({boot: z.union([z.int().min(1), z.string().regex(/^(100|[1-9]\d?)%$/, 'a percentage from 1% to 100%')], {error: 'expected a number of replicas or a percentage like 50%'}).default(1)}).optional(),
  migrate: z.strictObject({command: argv, status: argv.optional()}).optional(),
  secrets: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name like DB_PASSWORD'), secretSchema).optional(),
  domains: z.array(z.string().min(1)).optional(),
  /** Plain (non-secret) environment for every service and one-off task of the instance. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name like DATABASE_HOST'), z.union([z.string(), z.number()]).transform(String)).optional(),
})

export const poolSchema = z.strictObject({
  provider: name,
  size: z.string().min(1),
  region: z.string().min(1),
  image: z.string().min(1),
  max: z.int().min(1).max(500).default(10),
  idle: duration.default('30m'),
  tag: z.string().regex(/^[a-z0-9:_-]+$/, 'lowercase letters, digits, ":", "_" and "-"').optional(),
  /** The login on every runner (default root, where the provider puts the ssh key). */
  user: z.string().optional(),
  port: z.int().min(1).max(65535).optional(),
  /** The private key `dist:run` logs in with (default: ssh-agent and ~/.ssh/id_*). */
  identity: z.string().optional(),
  /** A cloud-init template (fleet-relative) instead of templates/cloud-init/runner.yaml. */
  cloud_init: z.string().optional(),
})

export const forgeSchema = z.strictObject({
  provider: name,
  name: name,
  size: z.string().min(1),
  region: z.string().min(1),
  image: z.string().min(1),
  /** The `Host` name written to .local/fleet/ssh_config (default: the forge's name). */
  alias: z.string().optional(),
  user: z.string().optional(),
  port: z.int().min(1).max(65535).optional(),
  identity: z.string().optional(),
  /** How many forge snapshots to keep; older ones are deleted after a new one completes. */
  keep: z.int().min(1).max(20).default(2),
  /** A cloud-init template (fleet-relative) instead of templates/cloud-init/forgejo.yaml. */
  cloud_init: z.string().optional(),
})

/** The whole fleet.yaml. Unknown keys anywhere are errors. */
export const fleetSchema = z.strictObject({
  version: z.literal(1),
  /** Marks this fleet's cloud machines (label fleet=NAME); default: an id derived from the fleet directory. */
  name: name.optional(),
  providers: z.record(name, providerSchema).default({}),
  hosts: z.record(name, hostSchema).default({}),
  instances: z.record(name, instanceSchema).default({}),
  pools: z.record(name, poolSchema).optional(),
  forge: forgeSchema.optional(),
  ssh: z.strictObject({
    known_hosts: z.string().optional(),
    host_key_policy: z.enum(['strict', 'accept-new']).default('strict'),
    config: z.string().optional(),
    connect_timeout: duration.optional(),
    max_startups: z.int().min(1).max(200).optional(),
    /** The public key put on machines fleet creates (default ~/.ssh/id_ed25519.pub). */
    public_key: z.string().optional(),
  }).optional(),
  vault: z.string().optional(),
})

export type FleetSpec = z.infer<typeof fleetSchema>
export type InstanceSpec = z.infer<typeof instanceSchema>
export type ServiceSpec = z.infer<typeof serviceSchema>
export type HostSpec = z.infer<typeof hostSchema>
export type HealthSpec = z.infer<typeof healthSchema>
export type PoolSpec = z.infer<typeof poolSchema>
export type ForgeSpec = z.infer<typeof forgeSchema>

export function jsonSchema(): unknown {
  return {$id: 'https://fleet.dev/fleet.schema.json', ...z.toJSONSchema(fleetSchema, {io: 'input', unrepresentable: 'any'})}
}

export {toMs} from './duration.js'
