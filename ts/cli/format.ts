/** Number, duration and table formatting for human-readable output. */

export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(digits)}%`
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?'
  const s = Math.round(ms / 1000)
  if (s < 60) return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

export function sci(x: number): string {
  return x.toExponential(2)
}

/** Left-aligned first column, right-aligned others. */
export function table(rows: string[][], gap = 2): string[] {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows.map((row) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join(' '.repeat(gap))
      .trimEnd(),
  )
}

/** The confusion matrix as text: rows are true classes, columns predicted ones. */
export function confusionTable(classNames: string[], confusion: number[][]): string[] {
  const short = classNames.map((c) => c.slice(0, 9))
  const header = ['true \\ predicted', ...short]
  const rows = confusion.map((row, i) => [classNames[i]!, ...row.map((n) => String(n))])
  return table([header, ...rows])
}
