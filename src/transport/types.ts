/** What a command run through a transport returned. Non-zero exit codes are results, not exceptions. */
export interface ExecResult {
  stdout: string
  stderr: string
  code: number
  durationMs: number
}

export interface ExecOptions {
  /** Bytes or text written to the command's stdin (how secrets and release archives travel). */
  stdin?: Buffer | string
  /** Working directory on the target; relative to the target's home/project root. */
  cwd?: string
  timeoutMs?: number
  signal?: AbortSignal
  /** Called with each chunk of output as it arrives (for progress streaming). */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void
}

/**
 * Runs argv lists on one target. `argv` is never interpreted by a local shell: the local transport
 * execs it directly, the ssh transport quotes every element for the remote shell.
 * Failing to reach the target throws a TransportError; a command that ran and failed returns its code.
 */
export interface Transport {
  readonly target: string
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>
  close(): Promise<void>
}
