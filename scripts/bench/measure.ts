/** Timing helpers of the benchmark: wall and CPU time, rates, medians. */

export interface Rate {
  /** Items processed while measuring. */
  items: number
  wallS: number
  /** CPU seconds of this process (every thread) over the same span. */
  cpuS: number
  perS: number
  /** Items per CPU-second: on a shared machine wall time undercounts what the code can do, this does not. */
  perCpuS: number
}

export function cpuSeconds(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

/**
 * Calls `call` (which processes `perCall` items) once untimed (warm-up),
 * then until `minMs` has passed and at least `minCalls` calls were made.
 */
export async function rate(perCall: number, minMs: number, call: (i: number) => Promise<unknown>, minCalls = 1): Promise<Rate> {
  await call(0)
  const cpu0 = cpuSeconds()
  const t0 = performance.now()
  let calls = 0
  while (calls < minCalls || performance.now() - t0 < minMs) {
    calls++
    await call(calls)
  }
  const wallS = (performance.now() - t0) / 1000
  const cpuS = cpuSeconds() - cpu0
  const items = calls * perCall
  return { items, wallS, cpuS, perS: items / wallS, perCpuS: cpuS > 0 ? items / cpuS : NaN }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** Progress and notes go to stderr; stdout holds the table and the JSON line. */
export function note(message: string): void {
  process.stderr.write(`bench: ${message}\n`)
}
