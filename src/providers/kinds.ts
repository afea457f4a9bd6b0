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
