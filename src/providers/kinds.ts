// What each provider type is, as data: the one place outside the registry that names provider types.

/** The environment variables a cloud provider type's token is read from, first match wins; undefined: not a cloud type. */
export function cloudTokenEnv(type: string): string[] | undefined {
  switch (type) {
    case 'hetzner': return ['HCLOUD_TOKEN']
    case 'digitalocean': return ['DIGITALOCEAN_TOKEN', 'DIGITALOCEAN_ACCESS_TOKEN']
    default: return undefined
  }
}

/** Whether a provider type rents machines (and so has a machines list to show). */
export const isCloudType = (type: string): boolean => cloudTokenEnv(type) !== undefined

/** What a runtime needs from fleet.yaml: whether it is built, and whether it runs on declared hosts or on this machine. */
export interface RuntimeKind {
  built: boolean
  placement: 'this-machine' | 'hosts' | 'managed'
}

export const RUNTIMES: Record<string, RuntimeKind> = {
  local: {built: true, placement: 'this-machine'},
  ssh: {built: true, placement: 'hosts'},
  'aws-ecs': {built: false, placement: 'managed'},
  railway: {built: false, placement: 'managed'},
}

/** What a provider type can hold: hosts reached over ssh at a declared address, or machines it creates. */
export const PROVIDERS: Record<string, {holdsHosts: boolean; needsAddress: boolean}> = {
  ssh: {holdsHosts: true, needsAddress: true},
  hetzner: {holdsHosts: true, needsAddress: false},
  digitalocean: {holdsHosts: true, needsAddress: false},
}
