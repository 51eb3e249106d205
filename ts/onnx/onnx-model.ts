/**
 * A `Model` backed by an exported `.onnx` file and ONNX Runtime
 * (`onnxruntime-node`, an optional peer dependency) instead of the addon:
 * images are decoded and preprocessed in TypeScript (./preprocess.ts), so
 * neither libtorch nor the man-fer addon is loaded.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'

import { ConfigError, ManError } from '../errors.ts'
import type { ImagePrediction, Model } from '../model.ts'
import { argmaxRows } from '../train/evaluation.ts'
import { parseMetadata, type OnnxModelInfo } from './metadata.ts'
import { checkImagePixels, expectImageList, readImageFile } from '../data/image-limits.ts'
import { decodeRgb8, testView } from './preprocess.ts'
import { decodeModel } from './schema.ts'

/**
 * The part of onnxruntime-node this file uses, declared here so that
 * man-fer's published types do not depend on a package users may not install.
 */
interface Session {
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown } | undefined>>
}
interface Ort {
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown
  InferenceSession: { create(model: Uint8Array, options: { intraOpNumThreads: number; graphOptimizationLevel: 'all' }): Promise<Session> }
}

export interface LoadOnnxModelOptions {
  /** Only 'auto' and 'cpu': the model runs on ONNX Runtime's CPU provider. */
  device?: string
  /** ONNX Runtime intra-op threads; 0 = its default. */
  threads?: number
  /** Images per run; default 64. */
  batchSize?: number
}

async function onnxRuntime(): Promise<Ort> {
  try {
    return (await import('onnxruntime-node')) as unknown as Ort
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new ManError('ERR_MAN_ONNX', 'running an .onnx model needs the onnxruntime-node package: npm install onnxruntime-node', { cause: err })
    }
    throw new ManError('ERR_MAN_ONNX', `onnxruntime-node failed to load: ${(err as Error).message}`, { cause: err })
  }
}

/** Row-wise softmax of N×C logits, in float64. */
export function softmaxRows(logits: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) {
    let max = -Infinity
    for (let c = 0; c < cols; c++) max = Math.max(max, logits[r * cols + c]!)
    let sum = 0
    for (let c = 0; c < cols; c++) sum += Math.exp(logits[r * cols + c]! - max)
    for (let c = 0; c < cols; c++) out[r * cols + c] = Math.exp(logits[r * cols + c]! - max) / sum
  }
  return out
}

export class OnnxModel implements Model {
  readonly device = 'cpu (onnxruntime)'

  constructor(
    readonly info: OnnxModelInfo,
    readonly checkpoint: string,
    private readonly ort: Ort,
    private readonly session: Session,
    private readonly batchSize: number,
  ) {}

  get classNames(): string[] {
    return this.info.classNames
  }

  get imageSize(): number {
    return this.info.imageSize
  }

  /** Preprocessed float32 NCHW input of the given images, as the model expects it. */
  async inputs(images: Array<string | Uint8Array>): Promise<Float32Array> {
    const side = this.info.imageSize
    const size = 3 * side * side
    const out = new Float32Array(images.length * size)
    for (let i = 0; i < images.length; i++) {
      const item = images[i]!
      // The addon's limits: regular files only, bounded size, pixels checked before decoding.
      const bytes = typeof item === 'string' ? await readImageFile(item) : item
      const name = typeof item === 'string' ? item : `image #${i}`
      checkImagePixels(bytes, name)
      testView(decodeRgb8(bytes, name), side, out, i * size, this.info.mean, this.info.std)
    }
    return out
  }

  /** N×C logits of already preprocessed float32 NCHW images. */
  async logits(pixels: Float32Array, count: number): Promise<Float32Array> {
    const side = this.info.imageSize
    const size = 3 * side * side
    const k = this.classNames.length
    if (pixels.length !== count * size) throw new ManError('ERR_MAN_SHAPE', `${count} images need ${count * size} values, got ${pixels.length}`)
    const out = new Float32Array(count * k)
    for (let from = 0; from < count; from += this.batchSize) {
      const n = Math.min(this.batchSize, count - from)
      const batch = new this.ort.Tensor('float32', pixels.subarray(from * size, (from + n) * size), [n, 3, side, side])
      const result = await this.session.run({ images: batch })
      const logits = result.logits
      if (!(logits?.data instanceof Float32Array) || logits.data.length !== n * k) {
        throw new ManError('ERR_MAN_SHAPE', `${this.checkpoint}: the model's 'logits' output is not float32 ${n}×${k}`)
      }
      out.set(logits.data, from * k)
    }
    return out
  }

  async predict(images: Array<string | Uint8Array>): Promise<ImagePrediction[]> {
    expectImageList('predict', images)
    const k = this.classNames.length
    if (images.length === 0) return []
    const probs = softmaxRows(await this.logits(await this.inputs(images), images.length), images.length, k)
    const best = argmaxRows(probs, images.length, k)
    return Array.from(best, (index, i) => ({
      probabilities: Array.from(probs.subarray(i * k, (i + 1) * k)),
      label: this.classNames[index]!,
      index,
    }))
  }
}

/** Loads an `.onnx` file written by `exportOnnx` (its metadata names the classes and the input). */
export async function loadOnnxModel(file: string, options: LoadOnnxModelOptions = {}): Promise<OnnxModel> {
  const device = options.device ?? 'auto'
  if (device !== 'auto' && device !== 'cpu') {
    throw new ConfigError([`Invalid value for option device: an .onnx model runs on ONNX Runtime's CPU provider here (auto or cpu), got '${device}'`])
  }
  const resolved = path.resolve(file)
  let bytes: Uint8Array
  try {
    bytes = await fs.readFile(resolved)
  } catch (err) {
    throw new ManError('ERR_MAN_IO', `cannot open ${file}: ${(err as Error).message}`, { cause: err })
  }
  const info = parseMetadata(decodeModel(bytes, resolved).metadataProps ?? [], resolved)
  const ort = await onnxRuntime()
  let session: Session
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: options.threads ?? 0, graphOptimizationLevel: 'all' })
  } catch (err) {
    throw new ManError('ERR_MAN_ONNX', `${resolved}: ONNX Runtime cannot load the model: ${(err as Error).message}`, { cause: err })
  }
  if (!session.inputNames.includes('images') || !session.outputNames.includes('logits')) {
    throw new ManError('ERR_MAN_ONNX', `${resolved}: expected an input 'images' and an output 'logits', found ${session.inputNames.join(', ')} → ${session.outputNames.join(', ')}`)
  }
  return new OnnxModel(info, resolved, ort, session, options.batchSize ?? 64)
}
