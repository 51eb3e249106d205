/** Accuracy, mean class accuracy and confusion matrix from predictions (typed-array passes). */
import type { BindingPrediction } from '../native/binding.ts'

export interface ClassScore {
  name: string
  /** Samples of this class. */
  total: number
  correct: number
  /** correct / total; 0 for a class without samples. */
  accuracy: number
}

export interface Scores {
  accuracy: number
  /** Mean over classes that have samples of the per-class accuracy. */
  meanClassAccuracy: number
  /** confusion[trueClass][predictedClass] = count. */
  confusion: number[][]
  perClass: ClassScore[]
}

/** The ensemble's choice per sample: argmax of each row of the N×C probabilities. */
export function argmaxRows(probs: Float32Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows)
  for (let r = 0; r < rows; r++) {
    const base = r * cols
    let best = 0
    let bestValue = probs[base]!
    for (let c = 1; c < cols; c++) {
      const v = probs[base + c]!
      if (v > bestValue) {
        bestValue = v
        best = c
      }
    }
    out[r] = best
  }
  return out
}

export function accuracy(pred: Int32Array, labels: Int32Array): number {
  if (labels.length === 0) return 0
  let correct = 0
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) correct++
  return correct / labels.length
}

export function score(pred: Int32Array, labels: Int32Array, classNames: string[]): Scores {
  const k = classNames.length
  const flat = new Float64Array(k * k)
  for (let i = 0; i < labels.length; i++) flat[labels[i]! * k + pred[i]!]! += 1
  const confusion: number[][] = []
  const perClass: ClassScore[] = []
  let correctAll = 0
  let classAccSum = 0
  let classesPresent = 0
  for (let t = 0; t < k; t++) {
    const row = Array.from(flat.subarray(t * k, (t + 1) * k))
    confusion.push(row)
    const total = row.reduce((a, b) => a + b, 0)
    const correct = row[t]!
    correctAll += correct
    const acc = total > 0 ? correct / total : 0
    if (total > 0) {
      classAccSum += acc
      classesPresent++
    }
    perClass.push({ name: classNames[t]!, total, correct, accuracy: acc })
  }
  return {
    accuracy: labels.length > 0 ? correctAll / labels.length : 0,
    meanClassAccuracy: classesPresent > 0 ? classAccSum / classesPresent : 0,
    confusion,
    perClass,
  }
}

export interface SplitEvaluation {
  size: number
  /** Accuracy of f1, f2 and of the ensemble (mean of the two networks' logits). */
  accuracy1: number
  accuracy2: number
  accuracy: number
  meanClassAccuracy: number
  /** Of the ensemble: confusion[trueClass][predictedClass]. */
  confusion: number[][]
}

export function evaluatePrediction(prediction: BindingPrediction, labels: Int32Array, classNames: string[]): SplitEvaluation {
  if (prediction.probs === null) throw new Error('evaluatePrediction needs probabilities')
  const ensemble = argmaxRows(prediction.probs, labels.length, classNames.length)
  const s = score(ensemble, labels, classNames)
  return {
    size: labels.length,
    accuracy1: accuracy(prediction.pred1, labels),
    accuracy2: accuracy(prediction.pred2, labels),
    accuracy: s.accuracy,
    meanClassAccuracy: s.meanClassAccuracy,
    confusion: s.confusion,
  }
}
