/**
 * `predictions/train-final.json`: what the final ensemble says about every
 * training sample, written once at the end of train() so that a report of a
 * finished run needs neither libtorch nor the dataset's labels. Arrays are
 * base64 of little-endian typed arrays (as the partition files), in the order
 * of `partitions/names.json`.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'

import { writeFileAtomic } from '../data/atomic-write.ts'
import { callNative, ManError } from '../errors.ts'
import type { BindingDataset, BindingTrainer } from '../native/binding.ts'

export const PREDICTIONS_DIR = 'predictions'
export const TRAIN_PREDICTIONS_FILE = 'train-final.json'
const FORMAT = 'man-fer-train-predictions'

export interface TrainPredictions {
  /** The epoch whose weights predicted (the last one trained). */
  epoch: number
  numClasses: number
  /** Given label per training member (after injected noise). */
  givenLabels: Int32Array
  /** True label per training member where known (synthetic truth file, injected noise); null otherwise. */
  trueLabels: Int32Array | null
  /** argmax of f1 and f2 on the test view. */
  pred1: Int32Array
  pred2: Int32Array
  /** Ensemble softmax, N×C row-major, on the test view. */
  probs: Float32Array
  /** What computed them, for the report's summary. */
  runtime: { torch: string | null; device: string | null }
}

interface PredictionsFile {
  format: typeof FORMAT
  version: 1
  epoch: number
  size: number
  numClasses: number
  view: 'test'
  runtime: { torch: string | null; device: string | null }
  givenLabels: string
  trueLabels: string | null
  pred1: string
  pred2: string
  probs: string
}

export function trainPredictionsPath(runDir: string): string {
  return path.join(runDir, PREDICTIONS_DIR, TRAIN_PREDICTIONS_FILE)
}

function b64(a: Int32Array | Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64')
}

function fromB64<T>(text: unknown, Ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number, file: string, field: string): T {
  if (typeof text !== 'string') throw new ManError('ERR_MAN_RUN_DIR', `${file}: ${field} must be a base64 string`)
  const bytes = Buffer.from(text, 'base64')
  if (bytes.length !== n * Ctor.BYTES_PER_ELEMENT) {
    throw new ManError('ERR_MAN_RUN_DIR', `${file}: ${field} holds ${bytes.length} bytes, expected ${n * Ctor.BYTES_PER_ELEMENT}`)
  }
  // A copy: a Buffer from base64 may share a pool with unaligned offsets.
  const copy = new ArrayBuffer(bytes.length)
  new Uint8Array(copy).set(bytes)
  return new Ctor(copy)
}

export async function writeTrainPredictions(runDir: string, p: TrainPredictions): Promise<string> {
  const file = trainPredictionsPath(runDir)
  const n = p.givenLabels.length
  for (const [name, len] of [['pred1', p.pred1.length], ['pred2', p.pred2.length], ['trueLabels', p.trueLabels?.length ?? n]] as const) {
    if (len !== n) throw new ManError('ERR_MAN_SHAPE', `train predictions: ${name} has ${len} entries for ${n} samples`)
  }
  if (p.probs.length !== n * p.numClasses) {
    throw new ManError('ERR_MAN_SHAPE', `train predictions: ${p.probs.length} probabilities for ${n} samples × ${p.numClasses} classes`)
  }
  const body: PredictionsFile = {
    format: FORMAT,
    version: 1,
    epoch: p.epoch,
    size: n,
    numClasses: p.numClasses,
    view: 'test',
    runtime: p.runtime,
    givenLabels: b64(p.givenLabels),
    trueLabels: p.trueLabels === null ? null : b64(p.trueLabels),
    pred1: b64(p.pred1),
    pred2: b64(p.pred2),
    probs: b64(p.probs),
  }
  await fs.mkdir(path.dirname(file), { recursive: true })
  await writeFileAtomic(file, `${JSON.stringify(body)}\n`)
  return file
}

/** The stored predictions, or null when the run has none (stopped early, or trained before they were kept). */
export async function readTrainPredictions(runDir: string): Promise<TrainPredictions | null> {
  const file = trainPredictionsPath(runDir)
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new ManError('ERR_MAN_RUN_DIR', `cannot read ${file}: ${(err as Error).message}`, { cause: err })
  }
  let body: PredictionsFile
  try {
    body = JSON.parse(text) as PredictionsFile
  } catch (err) {
    throw new ManError('ERR_MAN_RUN_DIR', `${file}: invalid JSON: ${(err as Error).message}`, { cause: err })
  }
  if (body?.format !== FORMAT || body.version !== 1) throw new ManError('ERR_MAN_RUN_DIR', `${file}: not a version 1 ${FORMAT} file`)
  const n = body.size
  const k = body.numClasses
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(k) || k < 2) {
    throw new ManError('ERR_MAN_RUN_DIR', `${file}: size and numClasses must be integers (numClasses >= 2)`)
  }
  return {
    epoch: body.epoch,
    numClasses: k,
    givenLabels: fromB64(body.givenLabels, Int32Array, n, file, 'givenLabels'),
    trueLabels: body.trueLabels === null ? null : fromB64(body.trueLabels, Int32Array, n, file, 'trueLabels'),
    pred1: fromB64(body.pred1, Int32Array, n, file, 'pred1'),
    pred2: fromB64(body.pred2, Int32Array, n, file, 'pred2'),
    probs: fromB64(body.probs, Float32Array, n * k, file, 'probs'),
    runtime: { torch: body.runtime?.torch ?? null, device: body.runtime?.device ?? null },
  }
}

/** The trainer's current ensemble on the test view of the given training members. */
export async function predictTrainingSet(
  trainer: BindingTrainer,
  dataset: BindingDataset,
  members: Uint32Array,
  numClasses: number,
  epoch: number,
  batchSize: number,
): Promise<Pick<TrainPredictions, 'pred1' | 'pred2' | 'probs'>> {
  const prediction = await callNative(() => trainer.predict(dataset, members, 'test', epoch, batchSize, true))
  if (prediction.probs === null || prediction.probs.length !== members.length * numClasses) {
    throw new ManError(
      'ERR_MAN_SHAPE',
      `predict returned ${prediction.probs?.length ?? 0} probabilities for ${members.length} samples × ${numClasses} classes`,
    )
  }
  return { pred1: prediction.pred1, pred2: prediction.pred2, probs: prediction.probs }
}
