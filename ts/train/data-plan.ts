/**
 * From a dataset index and the config to what training uses: checked labels,
 * injected noise, the validation split carved from the training set, and the
 * known flips for scoring co-division.
 */
import path from 'node:path'

import { DATA_LIMITS, type ManConfig } from '../config/schema.ts'
import { injectNoise } from '../data/noise.ts'
import { pickIndex } from '../data/subset.ts'
import type { DatasetIndex, DatasetSplit } from '../data/types.ts'
import { ManError } from '../errors.ts'
import { mixSeed, permutation, STREAM_VALIDATION } from '../util/prng.ts'

export interface DataPlan {
  classNames: string[]
  /** Every training image: the binding's training dataset (validation samples included). */
  trainPaths: string[]
  /** Given label per training image (after injected noise). */
  givenLabels: Int32Array
  /** Dataset indices of the samples trained on, ascending. */
  trainMembers: Uint32Array
  /** Given labels of `trainMembers`. */
  trainLabels: Int32Array
  /** Dataset indices of the validation samples; empty without a validation split. */
  valMembers: Uint32Array
  valLabels: Int32Array
  /** Per training member: 1 where the given label differs from the true one; null when truth is unknown. */
  flippedMask: Uint8Array | null
  /** Injected noise, or the labels of a noise file (`file`): indices into the training images. */
  noise: { rate: number; seed: number; flipped: Uint32Array; file?: string } | null
  test: DatasetSplit
  /** Names of the training members, relative to the dataset root where possible. */
  trainNames: string[]
}

function checkSplit(split: DatasetSplit, name: string, numClasses: number): void {
  if (split.labels.length !== split.paths.length) {
    throw new ManError('ERR_MAN_DATA', `the ${name} split has ${split.paths.length} paths but ${split.labels.length} labels`)
  }
  for (let i = 0; i < split.labels.length; i++) {
    const y = split.labels[i]!
    if (!(y >= 0 && y < numClasses)) {
      throw new ManError('ERR_MAN_DATA', `${split.paths[i]}: label ${y} is outside 0..${numClasses - 1} (${name} split)`)
    }
  }
}

export function checkIndex(index: DatasetIndex): void {
  const k = index.classNames.length
  if (k < 2) throw new ManError('ERR_MAN_DATA', `the dataset at ${index.root} has ${k} class(es); at least 2 are needed`)
  checkSplit(index.train, 'train', k)
  checkSplit(index.test, 'test', k)
  if (index.train.paths.length < 2) throw new ManError('ERR_MAN_DATA', `the training split of ${index.root} has fewer than 2 images`)
  if (index.test.paths.length === 0) throw new ManError('ERR_MAN_DATA', `the test split of ${index.root} is empty`)
  if (index.validationTrain !== undefined && index.validationTrain.length !== index.train.labels.length) {
    throw new ManError(
      'ERR_MAN_DATA',
      `validationTrain has ${index.validationTrain.length} entries for ${index.train.labels.length} training images`,
    )
  }
  if (index.trueTrainLabels !== undefined && index.trueTrainLabels.length !== index.train.labels.length) {
    throw new ManError(
      'ERR_MAN_DATA',
      `trueTrainLabels has ${index.trueTrainLabels.length} entries for ${index.train.labels.length} training images`,
    )
  }
}

/** What the class checks need from the configuration; unset fields take DATA_LIMITS. */
export interface ClassLimits {
  maxClasses?: number
  allowEmptyClasses?: boolean
}

/** Formats whose classes are whatever labels the listing uses, so that a typo or a stray folder adds one. */
const INFERRED_CLASSES = new Set<DatasetIndex['format']>(['csv', 'folder'])

/**
 * The class count must stay under `maxClasses`, and every class should have a
 * training sample. Where the classes come from the listing itself (CSV,
 * image folders) an empty one is a typo, 1-based labels or a stray folder,
 * and an error naming it unless `allowEmptyClasses`; where a protocol fixes
 * them (RAF-DB, FERPlus, AffectNet, a given index) the names of the empty
 * ones are returned, for a warning.
 */
export function checkClasses(index: DatasetIndex, options: ClassLimits = {}): string[] {
  const k = index.classNames.length
  const maxClasses = options.maxClasses ?? DATA_LIMITS.maxClasses
  if (k > maxClasses) {
    throw new ManError('ERR_MAN_DATA', `the dataset at ${index.root} declares ${k} classes, over the limit of ${maxClasses} (data.maxClasses)`)
  }
  const counts = new Uint32Array(k)
  for (const y of index.train.labels) counts[y]!++
  const empty = index.classNames.flatMap((name, c) => (counts[c] === 0 ? [`${JSON.stringify(name)} (index ${c})`] : []))
  if (empty.length === 0) return []
  const shown = empty.length > 10 ? [...empty.slice(0, 10), `... ${empty.length - 10} more`] : empty
  const what = `${empty.length} class(es) of the dataset at ${index.root} have no training sample: ${shown.join(', ')}`
  if (!INFERRED_CLASSES.has(index.format)) return [`${what}; the model will never predict them`]
  if (options.allowEmptyClasses ?? DATA_LIMITS.allowEmptyClasses) return []
  const integerNames = index.classNames.every((name, c) => name === String(c))
  const hint =
    integerNames && counts[0] === 0
      ? '; class indices start at 0: are the labels 1-based?'
      : '; remove the class, add samples, or set data.allowEmptyClasses'
  throw new ManError('ERR_MAN_DATA', `${what}${hint}`)
}

function gather(values: Int32Array, at: Uint32Array): Int32Array {
  const out = new Int32Array(at.length)
  for (let i = 0; i < at.length; i++) out[i] = values[at[i]!]!
  return out
}

function displayName(root: string, file: string): string {
  const rel = path.relative(root, file)
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file
}

export function planData(index: DatasetIndex, config: ManConfig): DataPlan {
  checkIndex(index)
  checkClasses(index, config.data)
  const k = index.classNames.length
  const n = index.train.paths.length

  let givenLabels = index.train.labels
  let trueLabels = index.trueTrainLabels
  let noise: DataPlan['noise'] = null
  if (config.noise.rate > 0) {
    const injected = injectNoise(index.train.labels, k, config.noise.rate, config.noise.seed)
    trueLabels = index.trueTrainLabels ?? index.train.labels
    givenLabels = injected.labels
    noise = { rate: config.noise.rate, seed: config.noise.seed, flipped: injected.flipped }
  } else if (index.labelsFrom !== undefined && trueLabels !== undefined) {
    const flipped = Uint32Array.from(givenLabels.keys()).filter((i) => givenLabels[i] !== trueLabels![i])
    noise = { rate: flipped.length / n, seed: config.noise.seed, flipped, file: index.labelsFrom }
  }

  let trainMembers: Uint32Array
  let valMembers = new Uint32Array(0)
  const fraction = config.data.validationSplit
  if (index.validationTrain !== undefined) {
    if (fraction > 0) {
      throw new ManError(
        'ERR_MAN_CONFIG',
        `Invalid value for option data.validationSplit: the ${index.format} dataset has its own validation split; leave it at 0`,
      )
    }
    const held = index.validationTrain
    valMembers = Uint32Array.from(held.keys()).filter((i) => held[i] === 1)
    trainMembers = Uint32Array.from(held.keys()).filter((i) => held[i] !== 1)
    if (trainMembers.length < 2) throw new ManError('ERR_MAN_DATA', `the training split of ${index.root} has fewer than 2 images besides its validation split`)
  } else if (fraction > 0) {
    const nVal = Math.max(1, Math.round(fraction * n))
    if (n - nVal < 2) {
      throw new ManError('ERR_MAN_CONFIG', `Invalid value for option data.validationSplit: leaves ${n - nVal} of ${n} images to train on`)
    }
    const perm = permutation(n, mixSeed(config.train.seed, STREAM_VALIDATION))
    valMembers = perm.slice(0, nVal).sort()
    trainMembers = perm.slice(nVal).sort()
  } else {
    trainMembers = new Uint32Array(n)
    for (let i = 0; i < n; i++) trainMembers[i] = i
  }

  const trainLabels = gather(givenLabels, trainMembers)
  let flippedMask: Uint8Array | null = null
  if (trueLabels !== undefined) {
    flippedMask = new Uint8Array(trainMembers.length)
    for (let i = 0; i < trainMembers.length; i++) flippedMask[i] = trueLabels[trainMembers[i]!] !== trainLabels[i] ? 1 : 0
  }

  return {
    classNames: index.classNames,
    trainPaths: index.train.paths,
    givenLabels,
    trainMembers,
    trainLabels,
    valMembers,
    valLabels: gather(givenLabels, valMembers),
    flippedMask,
    noise,
    test: index.test,
    trainNames: Array.from(trainMembers, (i) => displayName(index.root, index.train.paths[i]!)),
  }
}

/** The index without the images the addon could not decode (skipBad). */
export function withoutFailures(index: DatasetIndex, badTrain: Set<number>, badTest: Set<number>): DatasetIndex {
  const keep = (n: number, bad: Set<number>) => Array.from({ length: n }, (_, i) => i).filter((i) => !bad.has(i))
  return pickIndex(index, keep(index.train.paths.length, badTrain), keep(index.test.paths.length, badTest))
}
