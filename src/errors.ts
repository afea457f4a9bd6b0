import * as Errors from '@oclif/core/errors'

export const ExitCode = {ok: 0, bug: 1, usage: 2, config: 3, provider: 4, partial: 5, interrupted: 130} as const

export interface ConfigProblem {
  file: string
  line: number
  col: number
  path: string
  message: string
  hint?: string
}

abstract class FleetError extends Errors.CLIError {
  readonly exitCode: number
  constructor(message: string, opts: {code: string; exit: number; hint?: string; cause?: unknown}) {
    super(message, {code: opts.code, exit: opts.exit, suggestions: opts.hint ? [opts.hint] : undefined})
    this.exitCode = opts.exit
    if (opts.cause !== undefined) (this as {cause?: unknown}).cause = opts.cause
  }
}

export function formatProblem(p: ConfigProblem): string {
  const head = `${p.file}:${p.line}:${p.col} ${p.path || '(root)'}: ${p.message}`
  return p.hint ? `${head}\n  hint: ${p.hint}` : head
}

/** Every problem found in a fleet file, reported at once. */
export class FleetConfigError extends FleetError {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'), {code: 'FLEET_CONFIG', exit: ExitCode.config})
  }
}

/** A usage-level problem the user can fix on the command line (unknown instance, refused prompt). */
export class UsageError extends FleetError {
  constructor(message: string, hint?: string) {
    super(message, {code: 'FLEET_USAGE', exit: ExitCode.usage, hint})
  }
}

export class ProviderError extends FleetError {
  constructor(
    readonly info: {provider: string; operation: string; target: string; status?: number; code: string; detail: string; hint: string},
    cause?: unknown,
  ) {
    super(`${info.provider}: ${info.operation} ${info.target} failed: ${info.detail}`, {code: info.code, exit: ExitCode.provider, hint: info.hint, cause})
  }
}

/** Reaching or talking to a target failed (ssh connect, host key, timeouts). */
export class TransportError extends FleetError {
  constructor(readonly target: string, readonly detail: string, code: string, hint: string, cause?: unknown) {
    super(`${target}: ${detail}`, {code, exit: ExitCode.provider, hint, cause})
  }
}

export class LockError extends FleetError {
  constructor(message: string, hint: string) {
    super(message, {code: 'FLEET_LOCKED', exit: ExitCode.provider, hint})
  }
}

/** Some targets failed; the command's result lists which. */
export class PartialFailure extends FleetError {
  constructor(message: string, readonly result: unknown, hint?: string) {
    super(message, {code: 'FLEET_PARTIAL', exit: ExitCode.partial, hint})
  }
}

/** A step of the release model exited non-zero on a target. */
export class StepError extends FleetError {
  constructor(readonly instance: string, readonly host: string, readonly step: string, readonly status: number, readonly output: string) {
    const tail = output.split('\n').slice(-3).join(' | ')
    super(`${instance}@${host}: ${step} exited ${status}${tail ? `: ${tail}` : ''}`, {code: 'FLEET_STEP', exit: ExitCode.provider, hint: 'read the output above; fix the release or the host, then run the command again'})
  }
}
