/**
 * `writeReport(runDir)`: the run report (one self-contained HTML file) and,
 * on request, every training sample as CSV and JSON, from a run directory.
 */
import path from 'node:path'

import { writeFileAtomic } from '../data/atomic-write.ts'
import { computeFinalPredictions } from './final-predictions.ts'
import { renderPage, type PageParts } from './html.ts'
import { chartModel, pickRows, sampleColumns, thumbnailsOf } from './page-data.ts'
import { readRunData, type RunData } from './run-data.ts'
import { SAMPLE_COLUMNS, sampleRows, toCsv, toJson, type SampleRow } from './samples-table.ts'
import { runSummary } from './summary.ts'
import { flippedFrom, scoreSamples, topKPrecision, type SampleScores, type TopKPrecision } from './suspects.ts'

export const REPORT_FILE = 'report.html'
/** Suspects shown with a thumbnail unless told otherwise (about 2 KB each). */
export const DEFAULT_TOP = 300

export interface ReportOptions {
  /** The HTML file; default `<runDir>/report.html`. */
  out?: string
  /** Also write every training sample, most suspect first, as CSV / JSON to these files. */
  csv?: string
  json?: string
  /** Suspects shown with a thumbnail; default the run's report.top (300). */
  top?: number
  /**
   * Rows of the page's suspect table: the most suspect ones; default (or 0)
   * every training sample. The CSV and JSON always hold every sample. For very
   * large sets: each row costs about 18 to 28 bytes (docs/report.md).
   */
  rows?: number
  /** Where the training images are now, when the dataset moved after training. */
  dataRoot?: string
  /**
   * A run without predictions/train-final.json (stopped early, or older) has
   * them computed from checkpoints/last, which needs libtorch and the dataset;
   * false makes that an error instead. Default true.
   */
  computePredictions?: boolean
  /** Device for that computation; default the run's runtime.device. */
  device?: string
}

export interface ReportResult {
  html: string
  csv: string | null
  json: string | null
  /** Bytes of the HTML file and of its parts. */
  bytes: PageParts['bytes']
  samples: number
  labelIssues: number
  thumbnails: { shown: number; missing: number }
  /** Precision of the k most suspect samples against the known flips (k = number of flips); null when truth is unknown. */
  topK: TopKPrecision | null
  predictions: RunData['predictionsSource']
}

/** Scores and rows of a run already read; exported for the specs. */
export function scoreRun(run: RunData): { scores: SampleScores; rows: SampleRow[]; flipped: Uint8Array | null } {
  const p = run.predictions
  const scores = scoreSamples({ numClasses: p.numClasses, givenLabels: p.givenLabels, pred1: p.pred1, pred2: p.pred2, probs: p.probs, history: run.history })
  const rows = sampleRows({
    classNames: run.info.classNames,
    names: run.names,
    givenLabels: p.givenLabels,
    pred1: p.pred1,
    pred2: p.pred2,
    trueLabels: p.trueLabels,
    history: run.history,
    scores,
  })
  return { scores, rows, flipped: p.trueLabels === null ? null : flippedFrom(p.givenLabels, p.trueLabels) }
}

/** Writes the report of the run in `runDir` (and the CSV/JSON asked for); returns where and how big. */
export async function writeReport(runDir: string, options: ReportOptions = {}): Promise<ReportResult> {
  const compute =
    options.computePredictions === false
      ? undefined
      : (base: Parameters<typeof computeFinalPredictions>[0]) =>
          computeFinalPredictions(base, {
            ...(options.dataRoot !== undefined ? { dataRoot: options.dataRoot } : {}),
            ...(options.device !== undefined ? { device: options.device } : {}),
          })
  const run = await readRunData(runDir, compute)
  const { scores, rows, flipped } = scoreRun(run)
  const picked = pickRows(scores, options.rows)
  const top = Math.max(0, Math.min(options.top ?? run.config.report.top ?? DEFAULT_TOP, picked.length))
  const { thumbs, missing } = await thumbnailsOf(run, scores, picked, top, options.dataRoot)
  const page = renderPage({
    title: `man-fer report: ${path.basename(run.runDir)}`,
    runDir: run.runDir,
    generated: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    summary: runSummary(run),
    model: chartModel(run, scores, flipped, top),
    samples: { total: run.names.length, ...sampleColumns(run, scores, picked) },
    thumbs,
    truthKnown: flipped !== null,
    top,
  })
  const html = path.resolve(options.out ?? path.join(run.runDir, REPORT_FILE))
  await writeFileAtomic(html, page.html)
  const head = {
    run: run.runDir,
    classNames: run.info.classNames,
    columns: SAMPLE_COLUMNS,
    score: 'label_score = 0.5*p(given) + 0.5*(1 - noisy_share); see docs/report.md',
  }
  const csv = options.csv === undefined ? null : path.resolve(options.csv)
  const json = options.json === undefined ? null : path.resolve(options.json)
  if (csv !== null) await writeFileAtomic(csv, toCsv(rows))
  if (json !== null) await writeFileAtomic(json, toJson(rows, head))
  let labelIssues = 0
  for (const f of scores.isLabelIssue) labelIssues += f
  return {
    html,
    csv,
    json,
    bytes: page.bytes,
    samples: run.names.length,
    labelIssues,
    thumbnails: { shown: Object.keys(thumbs).length, missing },
    topK: flipped === null ? null : topKPrecision(scores.ranking, flipped),
    predictions: run.predictionsSource,
  }
}
