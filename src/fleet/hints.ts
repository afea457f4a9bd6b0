import type {z} from 'zod'

const providerTypes = 'local, ssh, hetzner, digitalocean, aws-ecs, railway'
const providerRef = 'provider: hetzner (a name declared under providers:)'

// Keyed by the end of a path, `*` standing for any name; the longest matching pattern wins.
const examples: Record<string, string> = {
  '': 'a fleet file is a mapping that starts with "version: 1"',
  version: 'version: 1',
  providers: 'providers: {hetzner: {type: hetzner, token: ${env:HCLOUD_TOKEN}}}',
  'providers.*.type': `type: hetzner (one of ${providerTypes})`,
  token: 'token: ${env:HCLOUD_TOKEN} or token: vault:hcloud (never the token itself)',
  endpoint: 'endpoint: https://api.example.com',
  region: 'region: fsn1',
  hosts: 'hosts: {web-1: {provider: lab, address: 192.0.2.10}}',
  'hosts.*': 'web-1: {provider: lab, address: 192.0.2.10}',
  'hosts.*.provider': providerRef,
  'hosts.*.address': 'address: 192.0.2.10 (or an alias from ~/.ssh/config)',
  'hosts.*.port': 'port: 22',
  'hosts.*.type': 'type: cx22 (the provider\'s server type)',
  labels: 'labels: [web, eu]',
  instances: 'instances: {web: {runtime: local, release: {source: ./app}, services: {web: {start: node server.js, port: 8080}}}}',
  'instances.*': 'web: {runtime: local, release: {source: ./app}, services: {web: {start: node server.js, port: 8080}}}',
  'instances.*.provider': providerRef,
  'instances.*.hosts': 'hosts: [web-1, web-2] (names declared under hosts:)',
  runtime: 'runtime: local (or ssh)',
  release: 'release: {source: ./app}',
  'release.source': 'source: ./app (a directory beside fleet.yaml)',
  'release.version': 'version: 1.4.2',
  keep: 'keep: 5',
  install: 'install: npm ci --omit=dev (or a list of arguments)',
  services: 'services: {web: {start: node server.js, port: 8080}}',
  'services.*': 'web: {start: node server.js, port: 8080}',
  start: 'start: node server.js',
  port: 'port: 8080',
  replicas: 'replicas: 3',
  health: 'health: {path: /health, timeout: 5s}',
  'health.path': 'path: /health',
  expect: 'expect: 200',
  timeout: 'timeout: 5s',
  interval: 'interval: 500ms',
  grace: 'grace: 30s',
  env: 'env: {NODE_ENV: production, PORT: "8080"}',
  'env.*': 'values under env: are strings: quote numbers and booleans, e.g. PORT: "8080"',
  rollout: 'rollout: {boot: 1}',
  boot: 'boot: 1 or boot: 50%',
  migrate: 'migrate: {command: npm run migrate}',
  command: 'command: npm run migrate (or a list of arguments)',
  status: 'status: npm run migrate:status (or a list of arguments)',
  secrets: 'secrets: {DB_PASSWORD: {source: generate}}',
  'secrets.*': 'DB_PASSWORD: {source: generate}',
  'secrets.*.source': 'source: generate (or vault, env)',
  length: 'length: 32',
  alphabet: 'alphabet: abcdef0123456789',
  apply: 'apply: ./set-password.sh (or a list of arguments)',
  domains: 'domains: [app.example.com]',
  pools: 'pools: {ci: {provider: hetzner, size: cx22, region: fsn1, image: ubuntu-24.04}}',
  'pools.*.provider': providerRef,
  size: 'size: cx22',
  image: 'image: ubuntu-24.04',
  max: 'max: 10',
  idle: 'idle: 30m',
  tag: 'tag: ci:runner',
  forge: 'forge: {provider: hetzner, name: forge, size: cx22, region: fsn1, image: ubuntu-24.04}',
  'forge.provider': providerRef,
  'forge.name': 'name: forge',
  host_key_policy: 'host_key_policy: strict (or accept-new)',
  connect_timeout: 'connect_timeout: 10s',
  max_startups: 'max_startups: 10',
}
const patterns = Object.keys(examples).map(k => (k === '' ? [] : k.split('.'))).sort((a, b) => b.length - a.length)

/** A short "e.g." for a failed key, so every problem tells the user what a good value looks like. */
export function hintFor(path: (string | number)[], issue: z.core.$ZodIssue): string | undefined {
  if (issue.code === 'invalid_value' && typeof issue.input === 'string') {
    const close = suggest(issue.input, issue.values.map(String))
    if (close) return close
  }
  if (issue.code === 'invalid_key') {
    const name = String(path.at(-1))
    return path.at(-2) === 'secrets' ? `e.g. ${name.toUpperCase().replaceAll(/[^A-Z0-9_]/g, '_')}` : `e.g. ${name.toLowerCase().replaceAll(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, 63) || 'web-1'}`
  }
  const reference = path.at(-1) === 'token' && typeof issue.input === 'string' ? /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(issue.input) : null
  if (reference) return `write it as \${env:${reference[1]}}`
  let end = path.length
  while (end > 0 && typeof path[end - 1] === 'number') end--
  const keys = path.slice(0, end).map(String)
  const match = patterns.find(pt => (pt.length === 0 ? keys.length === 0 : pt.length <= keys.length && pt.every((k, i) => k === '*' || k === keys[keys.length - pt.length + i])))
  if (match) {
    const example = examples[match.join('.')]
    return match.length === 0 || example.startsWith('values') ? example : `e.g. ${example}`
  }
  if (issue.code === 'invalid_type' && issue.expected === 'object') return 'indent the keys under it, e.g. "key: value" on the next lines'
  if (issue.code === 'invalid_type' && issue.expected === 'array') return 'write a list, e.g. [a, b]'
  return undefined
}

/** "did you mean" for a misspelt key or value, by edit distance. */
export function suggest(word: string, candidates: string[]): string | undefined {
  const best = closest(word, candidates)
  return best ? `did you mean "${best}"?` : undefined
}

export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  return best
}

function distance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]++
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return row[b.length]
}
