/**
 * A trained model: load it from a run directory or a checkpoint, classify
 * images, evaluate it on a labelled set. The ensemble of the two networks
 * (mean of their logits) gives every answer.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'

import { DATA_LIMITS } from './config/schema.ts'
import { expectImageList } from './data/image-limits.ts'
import type { DatasetIndex, DatasetSplit } from './data/types.ts'
import { callNative, callNativeSync, ManError } from './errors.ts'
import type { BindingDataset, BindingTrainer } from './native/binding.ts'
import { getBinding } from './native/index.ts'
import { loadOnnxModel } from './onnx/onnx-model.ts'
import { readCheckpointMeta } from './train/checkpoint.ts'
import { argmaxRows, score, type Scores } from './train/evaluation.ts'
import { openSplit } from './train/open-split.ts'
import { checkpointPath, exists } from './train/run-dir.ts'
import { assertSafetensorsComplete } from './util/safetensors.ts'
import { argumentError, describe } from './util/arguments.ts'

export interface LoadModelOptions {
  /** Which checkpoint of a run directory: 'best' (default, falls back to 'last') or 'last'. */
  checkpoint?: 'best' | 'last'
  /** 'auto' | 'cpu' | 'cuda' | 'cuda:N'; default 'auto'. */
  device?: string
  /** libtorch intra-op threads; 0 = libtorch's default. */
  threads?: number
  /** Images per forward pass; default 64. */
  batchSize?: number
  /** Largest image file (or buffer) predict reads, in MiB; default 64. */
  maxImageMB?: number
  /** Largest image, width × height, checked from its header before decoding; default 40 megapixels. */
  maxImagePixels?: number
}

export interface ImagePrediction {
  /** Ensemble class probabilities (sum 1), indexed like `Model.classNames`. */
  probabilities: number[]
  /** The most probable class's name. */
  label: string
  /** The most probable class's index. */
  index: number
}

export interface Model {
  readonly classNames: string[]
  readonly imageSize: number
  readonly device: string
  /** The checkpoint file the weights came from. */
  readonly checkpoint: string
  /** Classifies image files (paths) or encoded images (bytes: Buffer or Uint8Array), in order. */
  predict(images: Array<string | Uint8Array>): Promise<ImagePrediction[]>
}

const PREDICT_CACHE_BYTES = 64 * 1024 * 1024

type ImageInput = string | Uint8Array

class LoadedModel implements Model {
  constructor(
    readonly classNames: string[],
    readonly imageSize: number,
    readonly checkpoint: string,
    private readonly trainer: BindingTrainer,
    private readonly batchSize: number,
    private readonly limits: { maxImageBytes: number; maxImagePixels: number },
  ) {}

  get device(): string {
    return this.trainer.device
  }

  private get datasetOptions() {
    return { imageSize: this.imageSize, seed: 0, cacheBytes: PREDICT_CACHE_BYTES, threads: 0, ...this.limits }
  }

  /** Images of one kind; `at` gives each one's position in the caller's list, which names it in messages. */
  private open(images: ImageInput[], at: number[]): BindingDataset {
    const binding = getBinding()
    if (typeof images[0] === 'string') return callNativeSync(() => binding.Dataset.fromPaths(images as string[], this.datasetOptions))
    const names = at.map((i) => `image #${i}`)
    return callNativeSync(() => binding.Dataset.fromBuffers((images as Uint8Array[]).map(asBuffer), names, this.datasetOptions))
  }

  /** N×C ensemble probabilities, in the order of `images` (paths and buffers may be mixed). */
  async probabilities(images: ImageInput[]): Promise<Float32Array> {
    const k = this.classNames.length
    const out = new Float32Array(images.length * k)
    for (const isPath of [true, false]) {
      const at = images.flatMap((x, i) => ((typeof x === 'string') === isPath ? [i] : []))
      if (at.length === 0) continue
      const dataset = this.open(at.map((i) => images[i]!), at)
      await assertReadable(dataset)
      const probs = await this.datasetProbabilities(dataset, at.length)
      at.forEach((i, j) => out.set(probs.subarray(j * k, (j + 1) * k), i * k))
    }
    return out
  }

  /** N×C ensemble probabilities of a dataset split (its files, cropped where it says, or the images it carries). */
  async splitProbabilities(split: DatasetSplit): Promise<Float32Array> {
    if (split.paths.length === 0) return new Float32Array(0)
    return this.datasetProbabilities(openSplit(getBinding(), split, this.datasetOptions), split.paths.length)
  }

  private async datasetProbabilities(dataset: BindingDataset, n: number): Promise<Float32Array> {
    const k = this.classNames.length
    const indices = Uint32Array.from({ length: n }, (_, i) => i)
    const prediction = await callNative(() => this.trainer.predict(dataset, indices, 'test', 0, this.batchSize, true))
    if (prediction.probs === null || prediction.probs.length !== n * k) {
      throw new ManError('ERR_MAN_SHAPE', `predict returned ${prediction.probs?.length ?? 0} probabilities for ${n} images × ${k} classes`)
    }
    return prediction.probs
  }

  async predict(images: Array<string | Uint8Array>): Promise<ImagePrediction[]> {
    expectImageList('predict', images)
    const k = this.classNames.length
    const probs = await this.probabilities(images)
    const best = argmaxRows(probs, images.length, k)
    return Array.from(best, (index, i) => ({
      probabilities: Array.from(probs.subarray(i * k, (i + 1) * k)),
      label: this.classNames[index]!,
      index,
    }))
  }
}

/** Decodes every image once, and names all that cannot be read before any is classified. */
async function assertReadable(dataset: BindingDataset): Promise<void> {
  const failures = await callNative(() => dataset.scan())
  if (failures.length === 0) return
  const shown = failures.slice(0, 10).map((f) => `  ${f.message.replace(/^ERR_MAN_[A-Z_]+: /, '')}`)
  const more = failures.length > 10 ? [`  ... and ${failures.length - 10} more`] : []
  const code = failures.every((f) => f.message.startsWith('ERR_MAN_IO')) ? 'ERR_MAN_IO' : 'ERR_MAN_DECODE'
  throw new ManError(code, [`predict: ${failures.length} image(s) cannot be read:`, ...shown, ...more].join('\n'))
}

/** The checkpoint file of a run directory (or the file itself). */
export async function findCheckpoint(target: string, which: 'best' | 'last'): Promise<string> {
  let stat
  try {
    stat = await fs.stat(target)
  } catch (err) {
    throw new ManError('ERR_MAN_IO', `cannot open ${target}: ${(err as Error).message}`, { cause: err })
  }
  if (!stat.isDirectory()) return target
  const order = which === 'best' ? (['best', 'last'] as const) : (['last'] as const)
  const unusable: string[] = []
  for (const name of order) {
    const file = checkpointPath(target, name)
    if (!(await exists(file))) continue
    // A damaged best (cut short by a full disk or a bad copy) falls back to last.
    const why = await assertSafetensorsComplete(file).then(() => null, (err: Error) => err.message)
    if (why === null) return file
    unusable.push(why)
  }
  if (unusable.length > 0) throw new ManError('ERR_MAN_RUN_DIR', `${target} holds no intact checkpoint: ${unusable.join('; ')}`)
  throw new ManError('ERR_MAN_RUN_DIR', `${target} holds no checkpoint (${order.map((n) => `checkpoints/${n}.safetensors`).join(' or ')})`)
}

/**
 * Loads the model of a run directory (its best checkpoint by default), of one
 * checkpoint file, or of an `.onnx` file from `exportOnnx` (run by ONNX
 * Runtime, without libtorch; needs the onnxruntime-node package).
 */
function checkLoadOptions(target: unknown, options: unknown): asserts options is LoadModelOptions {
  if (typeof target !== 'string' || target === '') {
    throw argumentError('loadModel', `the first argument must be a run directory or checkpoint path, got ${describe(target)}`)
  }
  if (typeof options !== 'object' || options === null) throw argumentError('loadModel', `options must be an object, got ${describe(options)}`)
  const o = options as Record<string, unknown>
  if (o.checkpoint !== undefined && o.checkpoint !== 'best' && o.checkpoint !== 'last') {
    throw argumentError('loadModel', `options.checkpoint must be 'best' or 'last', got ${describe(o.checkpoint)}`)
  }
  for (const key of ['batchSize', 'maxImageMB', 'maxImagePixels'] as const) {
    const v = o[key]
    if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) {
      throw argumentError('loadModel', `options.${key} must be a positive integer, got ${describe(v)}`)
    }
  }
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && (o.threads as number) >= 0)) {
    throw argumentError('loadModel', `options.threads must be a non-negative integer, got ${describe(o.threads)}`)
  }
}

export async function loadModel(runDirOrCheckpoint: string, options: LoadModelOptions = {}): Promise<Model> {
  checkLoadOptions(runDirOrCheckpoint, options)
  if (runDirOrCheckpoint.toLowerCase().endsWith('.onnx')) return loadOnnxModel(runDirOrCheckpoint, options)
  const file = path.resolve(await findCheckpoint(runDirOrCheckpoint, options.checkpoint ?? 'best'))
  const meta = await readCheckpointMeta(file)
  const binding = getBinding()
  const trainer = callNativeSync(() =>
    binding.Trainer.create({
      numClasses: meta.classNames.length,
      device: options.device ?? 'auto',
      threads: options.threads ?? 0,
      seed: 0,
      // The optimiser is restored with the weights but never stepped here.
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      mixedPrecision: false,
    }),
  )
  await callNative(() => trainer.load(file))
  const limits = {
    maxImageBytes: (options.maxImageMB ?? DATA_LIMITS.maxImageMB) * 1024 * 1024,
    maxImagePixels: options.maxImagePixels ?? DATA_LIMITS.maxImagePixels,
  }
  return new LoadedModel(meta.classNames, meta.imageSize, file, trainer, options.batchSize ?? 64, limits)
}

export type Evaluation = Scores

/** Accuracy, mean class accuracy, confusion matrix and per-class scores of the model on labelled images. */
export async function evaluate(model: Model, dataset: DatasetIndex | { paths: string[]; labels: Int32Array | number[] }): Promise<Evaluation> {
  if (typeof model !== 'object' || model === null || typeof model.predict !== 'function') {
    throw argumentError('evaluate', `model must be a Model (from loadModel), got ${describe(model)}`)
  }
  if (typeof dataset !== 'object' || dataset === null) {
    throw argumentError('evaluate', `dataset must be a DatasetIndex or { paths, labels }, got ${describe(dataset)}`)
  }
  let paths: string[]
  let labels: Int32Array
  let split: DatasetSplit | null = null
  if ('test' in dataset) {
    const same =
      dataset.classNames.length === model.classNames.length && dataset.classNames.every((c, i) => c === model.classNames[i])
    if (!same) {
      throw new ManError(
        'ERR_MAN_DATA',
        `the dataset's classes (${dataset.classNames.join(', ')}) differ from the model's (${model.classNames.join(', ')})`,
      )
    }
    paths = dataset.test.paths
    labels = dataset.test.labels
    split = dataset.test
  } else {
    if (!Array.isArray(dataset.paths) || !(Array.isArray(dataset.labels) || dataset.labels instanceof Int32Array)) {
      throw argumentError('evaluate', 'dataset.paths must be an array of paths and dataset.labels an array of class indices')
    }
    paths = dataset.paths
    labels = Int32Array.from(dataset.labels)
  }
  const k = model.classNames.length
  if (labels.length !== paths.length) throw new ManError('ERR_MAN_DATA', `${paths.length} images but ${labels.length} labels`)
  for (let i = 0; i < labels.length; i++) {
    if (!(labels[i]! >= 0 && labels[i]! < k)) throw new ManError('ERR_MAN_DATA', `${paths[i]}: label ${labels[i]} is outside 0..${k - 1}`)
  }
  let pred: Int32Array
  if (model instanceof LoadedModel) {
    const probs = split === null ? await model.probabilities(paths) : await model.splitProbabilities(split)
    pred = argmaxRows(probs, paths.length, k)
  } else {
    if (split?.crops) throw new ManError('ERR_MAN_DATA', 'evaluate: this model cannot crop images to face boxes; pass a model from loadModel')
    pred = Int32Array.from(await model.predict(split?.images ?? paths), (p) => p.index)
  }
  return score(pred, labels, model.classNames)
}

/** The addon takes Node Buffers; a plain Uint8Array is wrapped without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
