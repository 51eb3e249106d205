/**
 * `truth.json` at a dataset root: the true label of each image, where it is
 * known (the synthetic set writes one). Format, version 1:
 *
 *   { "format": "man-fer-truth", "version": 1, "generator": "man-fer synthesize",
 *     "classNames": [...],
 *     "images": [ { "path": "Image/aligned/train_00001_aligned.jpg", "split": "train",
 *                   "trueLabel": 3, "givenLabel": 5, "blended": true, "blendClasses": [3, 0] }, ... ] }
 *
 * Paths are relative to the root with "/" separators; labels are 0-based
 * indices into classNames. `blendClasses` is [dominant, other] for blended
 * images and [] otherwise.
 */
import { readFile } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { dataError } from './problems.ts'
import { isFile } from './fs-kind.ts'

export const TRUTH_FILE = 'truth.json'
/** The `generator` of truth files written by the synthesizer. */
export const SYNTHETIC_GENERATOR = 'man-fer synthesize'

export interface TruthImage {
  path: string
  split: 'train' | 'test'
  trueLabel: number
  givenLabel: number
  blended: boolean
  blendClasses: number[]
}

export interface TruthFile {
  format: 'man-fer-truth'
  version: 1
  generator?: string
  classNames: string[]
  images: TruthImage[]
  [extra: string]: unknown
}

/** One image per line, so the file diffs and greps well. */
export function serializeTruth(truth: TruthFile): string {
  const { images, ...head } = truth
  const top = JSON.stringify(head).slice(0, -1)
  return `${top},"images":[\n${images.map((i) => JSON.stringify(i)).join(',\n')}\n]}\n`
}

function checkTruth(file: string, json: unknown): TruthFile {
  const bad = (what: string) => dataError(`${file}: ${what}`)
  const t = json as Partial<TruthFile> | null
  if (!t || typeof t !== 'object' || t.format !== 'man-fer-truth' || t.version !== 1) {
    throw bad('not a man-fer truth file (format "man-fer-truth", version 1)')
  }
  if (!Array.isArray(t.classNames) || !t.classNames.every((c) => typeof c === 'string')) {
    throw bad('classNames must be an array of strings')
  }
  if (!Array.isArray(t.images)) throw bad('images must be an array')
  const n = t.classNames.length
  const isLabel = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < n
  t.images.forEach((im, i) => {
    if (!im || typeof im.path !== 'string' || !isLabel(im.trueLabel) || !isLabel(im.givenLabel)) {
      throw bad(`images[${i}] needs a path and trueLabel/givenLabel in [0, ${n})`)
    }
  })
  return t as TruthFile
}

export async function readTruthFile(file: string): Promise<TruthFile> {
  let json: unknown
  try {
    json = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw dataError(`${file}: cannot read the truth file: ${(err as Error).message}`, err)
  }
  return checkTruth(file, json)
}

export interface TrainTruth {
  trueTrainLabels: Int32Array
  ambiguousTrain: Uint8Array
  generator: string | undefined
}

/** The truth of the given training images (root-relative paths), or null when the root has no truth file. */
export async function loadTrainTruth(
  root: string,
  classNames: string[],
  trainRelative: () => string[],
): Promise<TrainTruth | null> {
  const file = join(root, TRUTH_FILE)
  if (!(await isFile(file))) return null
  const truth = await readTruthFile(file)
  if (truth.classNames.join('\n') !== classNames.join('\n')) {
    throw dataError(`${file}: classNames ${JSON.stringify(truth.classNames)} differ from the dataset's ${JSON.stringify(classNames)}`)
  }
  const byPath = new Map(truth.images.map((im) => [im.path, im]))
  const relativePaths = trainRelative()
  const trueTrainLabels = new Int32Array(relativePaths.length)
  const ambiguousTrain = new Uint8Array(relativePaths.length)
  relativePaths.forEach((rel, i) => {
    const key = rel.split(sep).join('/')
    const im = byPath.get(key)
    if (!im) throw dataError(`${file}: no entry for the training image ${key}`)
    trueTrainLabels[i] = im.trueLabel
    ambiguousTrain[i] = im.blended ? 1 : 0
  })
  return { trueTrainLabels, ambiguousTrain, generator: truth.generator }
}
