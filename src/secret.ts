import {inspect} from 'node:util'

const REDACTED = '[redacted]'

/** A resolved secret value. Its string, JSON and inspect forms are redacted; only reveal() gives the value. */
export class Secret {
  readonly #value: string
  constructor(value: string, readonly name = 'secret') { this.#value = value }
  reveal(): string { return this.#value }
  toString(): string { return REDACTED }
  toJSON(): string { return REDACTED }
  [inspect.custom](): string { return `Secret(${this.name})` }
}

/** Replaces every known secret value in a text (error messages, remote stderr) before it is shown or stored. */
export function scrub(text: string, secrets: Iterable<Secret | string>): string {
  let out = text
  for (const s of secrets) {
    const v = typeof s === 'string' ? s : s.reveal()
    if (v.length >= 4) out = out.split(v).join(REDACTED)
  }
  return out
}
