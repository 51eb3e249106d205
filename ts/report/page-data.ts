/**
 * The data the report page embeds: the small model its charts read, the
 * per-sample columns of its table, and the thumbnails of the top suspects.
 */
import path from 'node:path'

import type { RunData } from './run-data.ts'
import { detectionByClass, suspectPairs, topKPrecision, type SampleScores } from './suspects.ts'
import { thumbnail } from './thumbnails.ts'

const r3 = (x: number) => Math.round(x * 1e3) / 1e3

export function chartModel(run: RunData, scores: SampleScores, flipped: Uint8Array | null, top: number) {
  const { epochs, info, history, predictions } = run
  const given = predictions.givenLabels
  const k = info.classNames.length
  const topK = flipped === null ? null : topKPrecision(scores.ranking, flipped)
  const detection =
    flipped === null
      ? null
      : {
          baseRate: topK!.baseRate,
          topK,
          topN: top > 0 ? topKPrecision(scores.ranking, flipped, top) : null,
          byClass: detectionByClass(history, given, flipped, k).flatMap(({ epoch, classes }) =>
            classes.flatMap((c) => [
              { epoch, label: info.classNames[c.label], metric: 'precision', value: c.precision },
              { epoch, label: info.classNames[c.label], metric: 'recall', value: c.recall },
            ]),
          ),
        }
  return {
    classNames: info.classNames,
    epochs: epochs.map((e) => ({
      epoch: e.epoch,
      phase: e.phase,
      lr: e.lr,
      lambda: e.lambda,
      loss: e.loss,
      acc1: e.test.accuracy1,
      acc2: e.test.accuracy2,
      acc: e.test.accuracy,
      valAcc: e.validation?.accuracy ?? null,
      partition: e.partition,
      precision: e.noiseDetection?.precision ?? null,
      recall: e.noiseDetection?.recall ?? null,
    })),
    coDivisionStart: epochs.find((e) => e.phase === 'co-division')?.epoch ?? null,
    confusion: epochs.at(-1)!.test.confusion,
    historyEpochs: history.map((h) => h.epoch),
    pairs: suspectPairs(scores, given, k),
    detection,
  }
}

/**
 * What the page's table needs, column by column. Values shown to three
 * decimals travel with three; times noisy, first noisy epoch and noisy share
 * are left for the page to count from the history (they would double the bytes).
 */
export function sampleColumns(run: RunData, scores: SampleScores, picked: Uint32Array) {
  const p = run.predictions
  const col = <T>(f: (i: number) => T) => Array.from(picked, f)
  const trueLabels = p.trueLabels
  return {
    names: col((i) => run.names[i]!),
    given: col((i) => p.givenLabels[i]!),
    predicted: col((i) => scores.predicted[i]!),
    f1: col((i) => p.pred1[i]!),
    f2: col((i) => p.pred2[i]!),
    predictedProb: col((i) => r3(scores.predictedProb[i]!)),
    givenProb: col((i) => r3(scores.givenProb[i]!)),
    score: col((i) => r3(scores.labelScore[i]!)),
    rank: col((i) => scores.rank[i]!),
    issue: col((i) => scores.isLabelIssue[i]!),
    history: col((i) => run.history.map((h) => h.codes[i]!).join('')),
    trueLabel: trueLabels === null ? null : col((i) => trueLabels[i]!),
  }
}

/** The samples the page's table holds: all of them, or the `rows` most suspect (by rank). */
export function pickRows(scores: SampleScores, rows: number | undefined): Uint32Array {
  const n = scores.rank.length
  if (rows === undefined || rows <= 0 || rows >= n) return Uint32Array.from({ length: n }, (_, i) => i)
  return scores.ranking.slice(0, rows)
}

/** Thumbnails of the `top` most suspect samples, keyed by their position in `picked` (the table's rows). */
export async function thumbnailsOf(run: RunData, scores: SampleScores, picked: Uint32Array, top: number, dataRoot: string | undefined) {
  const root = dataRoot ?? run.info.dataset.root
  const position = new Map(Array.from(picked, (sample, j) => [sample, j]))
  const thumbs: Record<number, string> = {}
  let missing = 0
  for (const i of scores.ranking.subarray(0, top)) {
    const t = await thumbnail(path.resolve(root, run.names[i]!))
    if ('uri' in t) thumbs[position.get(i)!] = t.uri
    else missing++
  }
  return { thumbs, missing }
}
