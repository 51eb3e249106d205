/**
 * The suspect ranking: one score per training sample, from how often and how
 * recently co-division judged it noisy and how much the final ensemble
 * believes its given label (docs/report.md gives the definition and why).
 * Plain functions over typed arrays.
 */
import { PARTITION_AMBIGUOUS, PARTITION_NOISY } from '../native/binding.ts'

/** The codes one co-division epoch gave every training sample. */
export interface EpochCodes {
  epoch: number
  codes: Uint8Array
}

export interface SampleInputs {
  numClasses: number
  givenLabels: Int32Array
  pred1: Int32Array
  pred2: Int32Array
  /** Ensemble softmax, N×C row-major. */
  probs: Float32Array
  /** Co-division epochs in ascending order (empty for the CE baseline). */
  history: EpochCodes[]
}

export interface SampleScores {
  /** The ensemble's argmax and its probability. */
  predicted: Int32Array
  predictedProb: Float32Array
  /** The ensemble's probability of the given label (cleanlab's self-confidence). */
  givenProb: Float32Array
  timesNoisy: Uint16Array
  timesAmbiguous: Uint16Array
  /** First epoch judged noisy; 0 when never. */
  firstNoisyEpoch: Uint16Array
  /** Recency-weighted share of co-division epochs judged noisy (ambiguous counts half), in [0, 1]. */
  noisyShare: Float32Array
  /** Quality of the given label in [0, 1], low = suspect (cleanlab's `label_score` sense). */
  labelScore: Float32Array
  /** MAN's verdict: noisy in the last co-division epoch; without co-division, both networks disagree with the label. */
  isLabelIssue: Uint8Array
  /** Sample indices, most suspect first (ascending labelScore, ties by index). */
  ranking: Uint32Array
  /** 1-based rank of each sample in `ranking`. */
  rank: Uint32Array
}

/** Weight of the k-th of K co-division epochs (1-based): later epochs count more, linearly. */
function recencyWeight(k: number): number {
  return k
}

export function scoreSamples(input: SampleInputs): SampleScores {
  const { numClasses: c, givenLabels, pred1, pred2, probs, history } = input
  const n = givenLabels.length
  const predicted = new Int32Array(n)
  const predictedProb = new Float32Array(n)
  const givenProb = new Float32Array(n)
  const timesNoisy = new Uint16Array(n)
  const timesAmbiguous = new Uint16Array(n)
  const firstNoisyEpoch = new Uint16Array(n)
  const noisyShare = new Float32Array(n)
  const labelScore = new Float32Array(n)
  const isLabelIssue = new Uint8Array(n)

  let weightSum = 0
  history.forEach((h, k) => {
    const w = recencyWeight(k + 1)
    weightSum += w
    for (let i = 0; i < n; i++) {
      const code = h.codes[i]
      if (code === PARTITION_NOISY) {
        timesNoisy[i]!++
        if (firstNoisyEpoch[i] === 0) firstNoisyEpoch[i] = h.epoch
        noisyShare[i]! += w
      } else if (code === PARTITION_AMBIGUOUS) {
        timesAmbiguous[i]!++
        noisyShare[i]! += w / 2
      }
    }
  })
  const last = history.at(-1)
  for (let i = 0; i < n; i++) {
    const row = i * c
    let best = 0
    for (let j = 1; j < c; j++) if (probs[row + j]! > probs[row + best]!) best = j
    predicted[i] = best
    predictedProb[i] = probs[row + best]!
    givenProb[i] = probs[row + givenLabels[i]!]!
    if (weightSum > 0) {
      noisyShare[i] = noisyShare[i]! / weightSum
      labelScore[i] = 0.5 * givenProb[i]! + 0.5 * (1 - noisyShare[i]!)
    } else {
      labelScore[i] = givenProb[i]!
    }
    isLabelIssue[i] =
      last !== undefined ? (last.codes[i] === PARTITION_NOISY ? 1 : 0) : pred1[i] !== givenLabels[i] && pred2[i] !== givenLabels[i] ? 1 : 0
  }
  const ranking = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => labelScore[a]! - labelScore[b]! || a - b)
  const rank = new Uint32Array(n)
  ranking.forEach((sample, r) => (rank[sample] = r + 1))
  return { predicted, predictedProb, givenProb, timesNoisy, timesAmbiguous, firstNoisyEpoch, noisyShare, labelScore, isLabelIssue, ranking, rank }
}

/** 1 where the given label differs from the true one. */
export function flippedFrom(givenLabels: Int32Array, trueLabels: Int32Array): Uint8Array {
  return Uint8Array.from(givenLabels, (g, i) => (g !== trueLabels[i] ? 1 : 0))
}

export interface TopKPrecision {
  k: number
  /** Flipped labels among the k most suspect samples. */
  hits: number
  precision: number
  /** Share of flipped labels in the whole training set: what a random pick of k would score. */
  baseRate: number
}

/** Precision of the k most suspect samples against the known flips; k defaults to the number of flips (R-precision). */
export function topKPrecision(ranking: Uint32Array, flipped: Uint8Array, k?: number): TopKPrecision {
  let flips = 0
  for (const f of flipped) flips += f
  const kk = Math.min(ranking.length, k ?? flips)
  let hits = 0
  for (let r = 0; r < kk; r++) hits += flipped[ranking[r]!]!
  return { k: kk, hits, precision: kk === 0 ? 0 : hits / kk, baseRate: flipped.length === 0 ? 0 : flips / flipped.length }
}

export interface ClassDetection {
  /** Given label. */
  label: number
  flipped: number
  noisy: number
  hits: number
  /** hits / noisy, null when the class has no noisy sample. */
  precision: number | null
  /** hits / flipped, null when the class has no flip. */
  recall: number | null
}

/** Per co-division epoch and per given class: precision and recall of the noisy subset against the known flips. */
export function detectionByClass(
  history: EpochCodes[],
  givenLabels: Int32Array,
  flipped: Uint8Array,
  numClasses: number,
): Array<{ epoch: number; classes: ClassDetection[] }> {
  return history.map(({ epoch, codes }) => {
    const flips = new Uint32Array(numClasses)
    const noisy = new Uint32Array(numClasses)
    const hits = new Uint32Array(numClasses)
    for (let i = 0; i < givenLabels.length; i++) {
      const y = givenLabels[i]!
      const isNoisy = codes[i] === PARTITION_NOISY
      flips[y]! += flipped[i]!
      if (isNoisy) {
        noisy[y]!++
        hits[y]! += flipped[i]!
      }
    }
    const classes = Array.from({ length: numClasses }, (_, label) => ({
      label,
      flipped: flips[label]!,
      noisy: noisy[label]!,
      hits: hits[label]!,
      precision: noisy[label]! === 0 ? null : hits[label]! / noisy[label]!,
      recall: flips[label]! === 0 ? null : hits[label]! / flips[label]!,
    }))
    return { epoch, classes }
  })
}

/** pairs[given][predicted]: how many flagged samples move from their given label to the ensemble's choice. */
export function suspectPairs(scores: SampleScores, givenLabels: Int32Array, numClasses: number): number[][] {
  const pairs = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0))
  for (let i = 0; i < givenLabels.length; i++) {
    if (scores.isLabelIssue[i] === 1) pairs[givenLabels[i]!]![scores.predicted[i]!]!++
  }
  return pairs
}
