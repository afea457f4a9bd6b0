export interface SshConfigBlock {
  /** null for options before the first Host line; `Match` blocks other than `Match all` never match. */
  patterns: string[] | null
  options: Array<[keyword: string, args: string[]]>
}

export interface SshHostConfig {
  host: string
  port?: number
  user?: string
  identityFiles: string[]
  proxyJump?: string
  /** A socket path, or 'none' to use no agent. */
  identityAgent?: string
}

export interface JumpHop {
  host: string
  port?: number
  user?: string
}

const MULTI = new Set(['identityfile'])

export function parseSshConfig(text: string): SshConfigBlock[] {
  const blocks: SshConfigBlock[] = [{patterns: null, options: []}]
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const m = /^([^\s=]+)\s*(?:=\s*|\s+)?(.*)$/.exec(line)
    if (!m) continue
    const keyword = m[1].toLowerCase()
    const args = splitArgs(m[2])
    if (keyword === 'host') blocks.push({patterns: args, options: []})
    else if (keyword === 'match') blocks.push({patterns: args.length === 1 && args[0].toLowerCase() === 'all' ? ['*'] : [], options: []})
    else blocks.at(-1)!.options.push([keyword, args])
  }
  return blocks
}

function splitArgs(s: string): string[] {
  const out: string[] = []
  for (const m of s.matchAll(/"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2])
  return out
}

/** OpenSSH pattern-list semantics: any matching `!pattern` excludes, otherwise any positive match includes. */
export function matchPatterns(name: string, patterns: readonly string[]): boolean {
  const subject = name.toLowerCase()
  let matched = false
  for (const p of patterns) {
    const negated = p.startsWith('!')
    if (!globMatches(negated ? p.slice(1) : p, subject)) continue
    if (negated) return false
    matched = true
  }
  return matched
}

// known_hosts and ssh_config are matched once per host and entry: plain names compare as strings, globs compile once.
const compiled = new Map<string, RegExp>()

function globMatches(glob: string, subject: string): boolean {
  if (!/[*?]/.test(glob)) return glob.toLowerCase() === subject
  let re = compiled.get(glob)
  if (!re) compiled.set(glob, (re = new RegExp(`^${glob.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`)))
  return re.test(subject)
}

/** Resolves `alias` the way `ssh alias` would: the first value obtained for each option wins, IdentityFile accumulates. */
export function resolveSshConfig(blocks: readonly SshConfigBlock[], alias: string, env: {home: string; localUser?: string}): SshHostConfig {
  const first = new Map<string, string>()
  const identityFiles: string[] = []
  for (const block of blocks) {
    if (block.patterns && !matchPatterns(alias, block.patterns)) continue
    for (const [keyword, args] of block.options) {
      if (args.length === 0) continue
      if (MULTI.has(keyword)) identityFiles.push(args[0])
      else if (!first.has(keyword)) first.set(keyword, args[0])
    }
  }
  const host = first.has('hostname') ? first.get('hostname')!.replaceAll('%h', alias) : alias
  const port = first.has('port') ? Number(first.get('port')) : undefined
  const user = first.get('user')
  const expand = (path: string) => expandPath(path, {home: env.home, host, user: user ?? env.localUser, localUser: env.localUser})
  const jump = first.get('proxyjump')
  const agent = first.get('identityagent')
  return {
    host,
    port: port !== undefined && Number.isInteger(port) && port > 0 && port < 65_536 ? port : undefined,
    user,
    identityFiles: identityFiles.filter((f) => f.toLowerCase() !== 'none').map(expand),
    proxyJump: jump && jump.toLowerCase() !== 'none' ? jump : undefined,
    identityAgent: agent === undefined || agent === 'SSH_AUTH_SOCK' ? undefined : agent.toLowerCase() === 'none' ? 'none' : expand(agent),
  }
}

export function expandPath(path: string, env: {home: string; host?: string; user?: string; localUser?: string}): string {
  const tilde = path === '~' ? env.home : path.startsWith('~/') ? env.home + path.slice(1) : path
  return tilde.replace(/%([%dhru])/g, (whole, t: string) => {
    const value = t === '%' ? '%' : t === 'd' ? env.home : t === 'h' ? env.host : t === 'r' ? env.user : env.localUser
    return value ?? whole
  })
}

/** `[user@]host[:port]` hops, comma-separated, optionally `ssh://` prefixed; IPv6 hosts in brackets. */
export function parseJumpSpec(spec: string): JumpHop[] {
  return spec.split(',').map((part) => {
    let rest = part.trim().replace(/^ssh:\/\//, '')
    let user: string | undefined
    const at = rest.lastIndexOf('@')
    if (at >= 0) {
      user = rest.slice(0, at)
      rest = rest.slice(at + 1)
    }
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest) ?? /^([^:]+)(?::(\d+))?$/.exec(rest)
    if (!m || !m[1]) throw new Error(`invalid ProxyJump hop "${part.trim()}"`)
    return {host: m[1], port: m[2] ? Number(m[2]) : undefined, user: user || undefined}
  })
}
