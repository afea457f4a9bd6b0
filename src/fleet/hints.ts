import type {z} from 'zod'

const examples: Record<string, string> = {
  version: 'version: 1',
  replicas: 'replicas: 3',
  port: 'port: 8080',
  start: 'start: node server.js',
  runtime: 'runtime: local (or ssh)',
  type: 'type: hetzner (local, ssh, hetzner, digitalocean, aws-ecs, railway)',
  provider: 'provider: hetzner (a name declared under providers:)',
  hosts: 'hosts: [web-1, web-2] (names declared under hosts:)',
  token: 'token: ${env:HCLOUD_TOKEN} or token: vault:hcloud (never the token itself)',
  source: 'source: ./app (a directory beside fleet.yaml)',
  path: 'path: /health',
  expect: 'expect: 200',
  timeout: 'timeout: 5s',
  grace: 'grace: 30s',
  interval: 'interval: 500ms',
  boot: 'boot: 1 or boot: 50%',
  services: 'services: {web: {start: node server.js, port: 8080}}',
  idle: 'idle: 30m',
  max: 'max: 10',
  size: 'size: s-8vcpu-16gb-amd',
  endpoint: 'endpoint: https://api.example.com',
  keep: 'keep: 5',
  command: 'command: npm run migrate (or a list of arguments)',
  install: 'install: npm ci --omit=dev (or a list of arguments)',
}

/** A short "e.g." for a failed key, so every problem tells the user what a good value looks like. */
export function hintFor(path: (string | number)[], issue: z.core.$ZodIssue): string | undefined {
  const key = [...path].reverse().find(k => typeof k === 'string' && examples[k]) as string | undefined
  if (key && key === path.at(-1)) return `e.g. ${examples[key]}`
  if (issue.code === 'invalid_format' && issue.format === 'regex') {
    return path.at(-1) === undefined ? undefined : `names use lowercase letters, digits and dashes, e.g. web-1`
  }
  if (issue.code === 'invalid_type' && issue.expected === 'object') return 'indent the keys under it, e.g. "key: value" on the next lines'
  if (issue.code === 'invalid_type' && issue.expected === 'array') return 'write a list, e.g. [a, b]'
  return key ? `e.g. ${examples[key]}` : undefined
}

/** "did you mean" for a misspelt key, by edit distance. */
export function suggest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  return best ? `did you mean "${best}"?` : undefined
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
