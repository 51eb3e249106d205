/**
 * What an exported model says about itself in ONNX `metadata_props`, so that
 * a consumer needs no other file: the classes, the input it expects and how
 * to make it, where it came from. Arrays are JSON text; numbers are decimal.
 */
import { ManError } from '../errors.ts'

export type OnnxNetwork = 'ensemble' | 1 | 2

export interface OnnxModelInfo {
  classNames: string[]
  /** Input height and width (square), pixels. */
  imageSize: number
  /** Per-channel (R, G, B) normalisation of pixel values scaled to [0, 1]. */
  mean: [number, number, number]
  std: [number, number, number]
  manFerVersion: string
  /** The run's configuration hash (as in its checkpoints), or '' if unknown. */
  configHash: string
  network: OnnxNetwork
  /** Epochs completed when the checkpoint was saved, or null if unknown. */
  epochsTrained: number | null
}

export const METADATA_KEYS = {
  classNames: 'class_names',
  imageSize: 'image_size',
  mean: 'mean',
  std: 'std',
  manFerVersion: 'man_fer_version',
  configHash: 'config_hash',
  network: 'network',
  epochsTrained: 'epochs_trained',
  preprocessing: 'preprocessing',
  output: 'output',
} as const

export const PREPROCESSING_TEXT =
  'RGB (alpha dropped); resize the whole image to image_size x image_size, ignoring aspect ratio, with the bilinear ' +
  "(triangle) filter widened by the scale factor when shrinking (PIL's Image.resize with BILINEAR); v/255, then " +
  '(v - mean[c]) / std[c] per channel; float32 NCHW. See docs/deploy.md of man-fer.'

export function outputText(network: OnnxNetwork): string {
  const which = network === 'ensemble' ? "the mean of the two networks' logits, as man-fer predicts" : `network ${network}'s logits`
  return `logits [N, classes]: ${which}; softmax gives the class probabilities`
}

export function metadataProps(info: OnnxModelInfo): Array<{ key: string; value: string }> {
  const k = METADATA_KEYS
  const props: Array<[string, string]> = [
    [k.classNames, JSON.stringify(info.classNames)],
    [k.imageSize, String(info.imageSize)],
    [k.mean, JSON.stringify(info.mean)],
    [k.std, JSON.stringify(info.std)],
    [k.manFerVersion, info.manFerVersion],
    [k.configHash, info.configHash],
    [k.network, String(info.network)],
    [k.preprocessing, PREPROCESSING_TEXT],
    [k.output, outputText(info.network)],
  ]
  if (info.epochsTrained !== null) props.push([k.epochsTrained, String(info.epochsTrained)])
  return props.map(([key, value]) => ({ key, value }))
}

function parseJson(file: string, key: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new ManError('ERR_MAN_ONNX', `${file}: metadata '${key}' is not JSON: ${text.slice(0, 80)}`)
  }
}

function triple(file: string, key: string, text: string): [number, number, number] {
  const v = parseJson(file, key, text)
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new ManError('ERR_MAN_ONNX', `${file}: metadata '${key}' must be three numbers, got ${text.slice(0, 80)}`)
  }
  return v as [number, number, number]
}

/** Reads the metadata back from an ONNX model's `metadata_props`; names the file and key of any problem. */
export function parseMetadata(props: Array<{ key: string; value: string }>, file: string): OnnxModelInfo {
  const map = new Map(props.map((p) => [p.key, p.value]))
  const need = (key: string) => {
    const v = map.get(key)
    if (v === undefined) throw new ManError('ERR_MAN_ONNX', `${file}: metadata '${key}' is missing (not a model exported by man-fer export?)`)
    return v
  }
  const k = METADATA_KEYS
  const classNames = parseJson(file, k.classNames, need(k.classNames))
  if (!Array.isArray(classNames) || classNames.length < 2 || !classNames.every((c) => typeof c === 'string')) {
    throw new ManError('ERR_MAN_ONNX', `${file}: metadata '${k.classNames}' must be a list of at least two names`)
  }
  const imageSize = Number(need(k.imageSize))
  if (!Number.isSafeInteger(imageSize) || imageSize < 1) throw new ManError('ERR_MAN_ONNX', `${file}: metadata '${k.imageSize}' must be a positive integer`)
  const network = need(k.network)
  if (network !== 'ensemble' && network !== '1' && network !== '2') {
    throw new ManError('ERR_MAN_ONNX', `${file}: metadata '${k.network}' must be ensemble, 1 or 2, got '${network}'`)
  }
  const epochs = map.has(k.epochsTrained) ? Number(map.get(k.epochsTrained)) : null
  return {
    classNames: classNames as string[],
    imageSize,
    mean: triple(file, k.mean, need(k.mean)),
    std: triple(file, k.std, need(k.std)),
    manFerVersion: need(k.manFerVersion),
    configHash: need(k.configHash),
    network: network === 'ensemble' ? 'ensemble' : (Number(network) as 1 | 2),
    epochsTrained: epochs !== null && Number.isSafeInteger(epochs) ? epochs : null,
  }
}
