import {TransportError} from '../errors.js'

export type SshError = Error & {code?: string; level?: string}
export type LoginStage = 'tcp' | 'banner' | 'auth'

export function connectError(ep: {name: string; host: string; port: number; user: string}, err: SshError, stage: LoginStage, tried: string[], timeoutMs: number): TransportError {
  const at = `${ep.host}:${ep.port}`
  const t = seconds(timeoutMs)
  const e = (detail: string, code: string, hint: string) => new TransportError(ep.name, detail, code, hint, err)
  if (err.level === 'client-timeout') {
    if (stage === 'tcp') return e(`host unreachable (no TCP connection to ${at} within ${t})`, 'SSH_TIMEOUT', 'check the address, the port and any firewall in between')
    if (stage === 'banner') return e(`sshd not answering (no SSH banner within ${t})`, 'SSH_TIMEOUT', `${at} accepts connections but sshd does not respond: check that it is running and not overloaded`)
    return e(`ssh login did not finish within ${t}`, 'SSH_TIMEOUT', 'check the load on the host, or raise the connect timeout')
  }
  if (err.level === 'client-authentication') {
    const what = tried.length > 0 ? `tried ${tried.join(', ')}` : 'no ssh-agent and no identity file found'
    return e(`authentication as ${ep.user} failed (${what})`, 'SSH_AUTH', `add your public key to ~${ep.user}/.ssh/authorized_keys on the host, or set an identity file, or load the key into ssh-agent`)
  }
  switch (err.code) {
    case 'ECONNREFUSED':
      return e(`host unreachable (connection refused at ${at})`, 'SSH_CONNECT', `check that the host is up and sshd listens on port ${ep.port}`)
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return e(`host unreachable (DNS cannot resolve "${ep.host}")`, 'SSH_CONNECT', 'check the host name in fleet.yaml or ~/.ssh/config')
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
    case 'ECONNRESET':
    case 'EPIPE':
      return e(`host unreachable (${err.code} at ${at})`, 'SSH_CONNECT', 'check that the host is up and the network path to it')
  }
  if (stage !== 'auth') return e(`connection to ${at} closed before the SSH handshake finished (${err.message})`, 'SSH_CONNECT', 'check that an SSH server listens there and accepts more connections (MaxStartups)')
  return e(`ssh login to ${at} failed (${err.message})`, 'SSH_CONNECT', 'retry; if it persists, check the sshd log on the host')
}

export function closedError(target: string, cause?: unknown): TransportError {
  return new TransportError(target, 'connection closed before login', 'SSH_CLOSED', 'the command was shutting down; run it again', cause)
}

export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`
}
