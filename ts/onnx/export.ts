/**
 * `exportOnnx`: a trained model (one network, or the two-network ensemble man-fer
 * predicts with) as an ONNX file that ONNX Runtime runs without libtorch. The
 * weights are read from the checkpoint in TypeScript, so exporting needs no
 * libtorch either.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'

import { writeFileAtomic } from '../data/atomic-write.ts'
import { ConfigError, ManError } from '../errors.ts'
import { findCheckpoint, type Model } from '../model.ts'
import { PACKAGE_ROOT } from '../native/loader.ts'
import { readCheckpointMeta } from '../train/checkpoint.ts'
import { readSafetensorsFloat32 } from '../util/safetensors.ts'
import { GraphBuilder } from './graph-builder.ts'
import { metadataProps, type OnnxModelInfo, type OnnxNetwork } from './metadata.ts'
import { IMAGENET_MEAN, IMAGENET_STD } from './preprocess.ts'
import { addResNet18, headClasses, type NetworkSource, type NetworkTensors } from './resnet-graph.ts'
import { encodeModel, ONNX_FLOAT, type OnnxModel, type OnnxValueInfo } from './schema.ts'

export const INPUT_NAME = 'images'
export const OUTPUT_NAME = 'logits'
export const DEFAULT_OPSET = 17
/** Every operator the graph uses has had its current meaning since opset 11; 26 is the newest ONNX Runtime 1.30 runs. */
export const MIN_OPSET = 11
export const MAX_OPSET = 26

/** The lowest IR version each opset needs (onnx.helper.VERSION_TABLE). */
function irVersionFor(opset: number): number {
  if (opset <= 11) return 6
  if (opset <= 14) return 7
  if (opset <= 18) return 8
  if (opset <= 20) return 9
  if (opset <= 22) return 10
  if (opset === 23) return 11
  if (opset === 24) return 12
  return 13
}

export interface ExportOnnxOptions {
  /** Output file; default `model.onnx` (`model-net1.onnx`, `model-net2.onnx` for one network) in the run directory, or beside the checkpoint file. */
  out?: string
  /** 'ensemble' (default: the mean of both networks' logits, as man-fer predicts), 1 or 2. */
  network?: OnnxNetwork
  /** ONNX operator set; default 17. */
  opset?: number
  /** Which checkpoint of a run directory: 'best' (default, falls back to 'last') or 'last'. */
  checkpoint?: 'best' | 'last'
}

export interface OnnxExport {
  /** The file written. */
  file: string
  /** Its size. */
  bytes: number
  /** The checkpoint the weights came from. */
  checkpoint: string
  opset: number
  irVersion: number
  /** What the file's metadata_props say. */
  info: OnnxModelInfo
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version
}

function checkOptions(options: ExportOnnxOptions): { network: OnnxNetwork; opset: number } {
  const network = options.network ?? 'ensemble'
  if (network !== 'ensemble' && network !== 1 && network !== 2) {
    throw new ConfigError([`Invalid value for option network: expected ensemble, 1 or 2, got ${JSON.stringify(network)}`])
  }
  const opset = options.opset ?? DEFAULT_OPSET
  if (!Number.isSafeInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ConfigError([`Invalid value for option opset: expected an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}`])
  }
  return { network, opset }
}

function defaultOut(target: string, checkpoint: string, network: OnnxNetwork): string {
  const name = network === 'ensemble' ? 'model.onnx' : `model-net${network}.onnx`
  // A checkpoint inside a run directory's checkpoints/ exports to the run directory.
  const dir = path.dirname(checkpoint)
  const runDir = path.basename(dir) === 'checkpoints' && path.resolve(target) !== checkpoint ? path.dirname(dir) : dir
  return path.join(runDir, name)
}

async function readNetworks(checkpoint: string, prefixes: string[]): Promise<NetworkSource[]> {
  const all = await readSafetensorsFloat32(checkpoint, (name) => prefixes.some((p) => name.startsWith(p)))
  return prefixes.map((prefix) => {
    const tensors: NetworkTensors = new Map()
    for (const [name, t] of all) if (name.startsWith(prefix)) tensors.set(name.slice(prefix.length), t)
    return { tensors, label: `${checkpoint} (${prefix.slice(0, -1)})` }
  })
}

function tensorInfo(name: string, dims: Array<number | string>): OnnxValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType: ONNX_FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  }
}

/**
 * Writes a trained model as ONNX: input `images` float32 [N, 3, S, S] (already
 * normalised, see docs/deploy.md), output `logits` float32 [N, classes];
 * BatchNorm folded into the convolutions; class names, input size,
 * normalisation, man-fer version and configuration hash in `metadata_props`.
 */
export async function exportOnnx(modelOrRunDir: string | Model, options: ExportOnnxOptions = {}): Promise<OnnxExport> {
  const { network, opset } = checkOptions(options)
  const target = typeof modelOrRunDir === 'string' ? modelOrRunDir : modelOrRunDir.checkpoint
  if (target.endsWith('.onnx')) throw new ManError('ERR_MAN_ONNX', `${target} is already an ONNX model; export from a run directory or a checkpoint`)
  const checkpoint = path.resolve(await findCheckpoint(target, options.checkpoint ?? 'best'))
  const meta = await readCheckpointMeta(checkpoint)
  const classes = meta.classNames.length

  const prefixes = network === 'ensemble' ? ['net1.', 'net2.'] : [`net${network}.`]
  const sources = await readNetworks(checkpoint, prefixes)
  for (const source of sources) {
    const head = headClasses(source)
    if (head !== classes) throw new ManError('ERR_MAN_WEIGHTS', `${source.label}: the head has ${head} classes, the metadata names ${classes}`)
  }

  const g = new GraphBuilder()
  const logits = sources.map((source, i) => addResNet18(g, source, prefixes[i]!, INPUT_NAME, classes))
  if (logits.length === 2) {
    const half = g.constant('ensemble.half', [], Float32Array.of(0.5))
    const sum = g.node('Add', logits, 'ensemble.sum')
    g.node('Mul', [sum, half], OUTPUT_NAME)
  } else {
    g.node('Identity', logits, OUTPUT_NAME)
  }

  const info: OnnxModelInfo = {
    classNames: meta.classNames,
    imageSize: meta.imageSize,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    manFerVersion: packageVersion(),
    configHash: meta.configHash,
    network,
    epochsTrained: meta.history.length,
  }
  const irVersion = irVersionFor(opset)
  const model: OnnxModel = {
    irVersion,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'man-fer',
    producerVersion: info.manFerVersion,
    docString: `MAN facial-expression classifier (${network === 'ensemble' ? 'two ResNet-18s, mean of their logits' : `ResNet-18, network ${network}`})`,
    graph: {
      name: network === 'ensemble' ? 'man_fer_ensemble' : `man_fer_net${network}`,
      node: g.nodes,
      initializer: g.initializers,
      input: [tensorInfo(INPUT_NAME, ['N', 3, meta.imageSize, meta.imageSize])],
      output: [tensorInfo(OUTPUT_NAME, ['N', classes])],
    },
    metadataProps: metadataProps(info),
  }
  const bytes = encodeModel(model)
  const file = path.resolve(options.out ?? defaultOut(target, checkpoint, network))
  await writeFileAtomic(file, bytes)
  return { file, bytes: bytes.length, checkpoint, opset, irVersion, info }
}
