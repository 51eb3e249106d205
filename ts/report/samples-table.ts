/**
 * Every training sample as one row, most suspect first, as CSV and JSON.
 * Columns named as cleanlab's `find_label_issues`/Datalab where they mean the
 * same (`given_label`, `predicted_label`, `label_score`, `is_label_issue`),
 * then man-fer's own.
 */
import type { SampleScores } from './suspects.ts'

/** The columns, in order; docs/report.md describes each. */
export const SAMPLE_COLUMNS = [
  'rank',
  'index',
  'path',
  'given_label',
  'predicted_label',
  'label_score',
  'is_label_issue',
  'predicted_probability',
  'given_label_probability',
  'times_noisy',
  'times_ambiguous',
  'first_noisy_epoch',
  'noisy_share',
  'f1_prediction',
  'f2_prediction',
  'partition_history',
  'true_label',
  'is_flipped',
] as const

export type SampleColumn = (typeof SAMPLE_COLUMNS)[number]
export type SampleRow = Record<SampleColumn, string | number | boolean | null>

export interface TableInput {
  classNames: string[]
  names: string[]
  givenLabels: Int32Array
  pred1: Int32Array
  pred2: Int32Array
  trueLabels: Int32Array | null
  /** Co-division codes per epoch, ascending. */
  history: Array<{ epoch: number; codes: Uint8Array }>
  scores: SampleScores
}

/** One letter per co-division epoch: C clean, A ambiguous, N noisy. */
export function historyString(history: TableInput['history'], i: number): string {
  return history.map((h) => 'CAN'[h.codes[i]!] ?? '?').join('')
}

const round = (x: number) => Math.round(x * 1e6) / 1e6

export function sampleRows(t: TableInput): SampleRow[] {
  const { classNames: names, scores: s } = t
  return Array.from(s.ranking, (i) => ({
    rank: s.rank[i]!,
    index: i,
    path: t.names[i]!,
    given_label: names[t.givenLabels[i]!]!,
    predicted_label: names[s.predicted[i]!]!,
    label_score: round(s.labelScore[i]!),
    is_label_issue: s.isLabelIssue[i] === 1,
    predicted_probability: round(s.predictedProb[i]!),
    given_label_probability: round(s.givenProb[i]!),
    times_noisy: s.timesNoisy[i]!,
    times_ambiguous: s.timesAmbiguous[i]!,
    first_noisy_epoch: s.firstNoisyEpoch[i] === 0 ? null : s.firstNoisyEpoch[i]!,
    noisy_share: round(s.noisyShare[i]!),
    f1_prediction: names[t.pred1[i]!]!,
    f2_prediction: names[t.pred2[i]!]!,
    partition_history: historyString(t.history, i),
    true_label: t.trueLabels === null ? null : names[t.trueLabels[i]!]!,
    is_flipped: t.trueLabels === null ? null : t.trueLabels[i] !== t.givenLabels[i],
  }))
}

function csvField(v: string | number | boolean | null): string {
  if (v === null) return ''
  const text = String(v)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** RFC 4180: a header line, then one line per row; empty fields for unknowns. */
export function toCsv(rows: SampleRow[]): string {
  const lines = [SAMPLE_COLUMNS.join(',')]
  for (const row of rows) lines.push(SAMPLE_COLUMNS.map((c) => csvField(row[c])).join(','))
  return `${lines.join('\r\n')}\r\n`
}

export function toJson(rows: SampleRow[], head: Record<string, unknown>): string {
  const body = rows.map((r) => JSON.stringify(r)).join(',\n')
  return `${JSON.stringify({ format: 'man-fer-label-issues', version: 1, ...head }).slice(0, -1)},"samples":[\n${body}\n]}\n`
}
