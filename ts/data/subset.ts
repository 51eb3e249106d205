/** Subsets of a dataset index that keep every per-image array in step with the paths. */
import type { DatasetIndex, DatasetSplit } from './types.ts'

function rows<T extends Uint8Array | Uint32Array>(values: T, width: number, at: number[]): T {
  const out = new (values.constructor as new (n: number) => T)(at.length * width)
  at.forEach((i, j) => out.set(values.subarray(i * width, (i + 1) * width), j * width))
  return out
}

/** The images of `split` at positions `at`, in that order. */
export function pickSplit(split: DatasetSplit, at: number[]): DatasetSplit {
  const out: DatasetSplit = { paths: at.map((i) => split.paths[i]!), labels: Int32Array.from(at, (i) => split.labels[i]!) }
  if (split.images) out.images = at.map((i) => split.images![i]!)
  if (split.crops) out.crops = rows(split.crops, 4, at)
  if (split.votes && split.paths.length > 0) out.votes = rows(split.votes, split.votes.length / split.paths.length, at)
  return out
}

/** The index with only the given training and test positions. */
export function pickIndex(index: DatasetIndex, trainAt: number[], testAt: number[]): DatasetIndex {
  const out: DatasetIndex = { ...index, train: pickSplit(index.train, trainAt), test: pickSplit(index.test, testAt) }
  const perTrain = <T extends Int32Array | Uint8Array>(v: T | undefined): T | undefined =>
    v === undefined ? undefined : (rows(v as unknown as Uint8Array, 1, trainAt) as unknown as T)
  if (index.trueTrainLabels) out.trueTrainLabels = Int32Array.from(trainAt, (i) => index.trueTrainLabels![i]!)
  if (index.ambiguousTrain) out.ambiguousTrain = perTrain(index.ambiguousTrain)
  if (index.validationTrain) out.validationTrain = perTrain(index.validationTrain)
  return out
}
