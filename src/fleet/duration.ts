/** A fleet.yaml duration (`500ms`, `30s`, `5m`, `1h`, or a number of seconds) in milliseconds. */
export function toMs(d: number | string): number {
  if (typeof d === 'number') return d * 1000
  const m = /^(\d+)(ms|s|m|h)$/.exec(d)
  if (!m) throw new Error(`not a duration: ${d}`)
  return Number(m[1]) * {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[m[2] as 'ms']
}
