/**
 * One man-fer ResNet-18 (torchvision topology, crates/man-core/src/model/resnet.rs)
 * as ONNX nodes, in inference form: every BatchNorm is folded into the
 * convolution before it, using the running statistics, so the graph is
 * Conv → Relu → MaxPool → 8 basic blocks → GlobalAveragePool → Flatten → Gemm.
 */
import { ManError } from '../errors.ts'
import type { Float32Tensor } from '../util/safetensors.ts'
import type { GraphBuilder } from './graph-builder.ts'

/** torch.nn.BatchNorm2d's default, which resnet.rs uses. */
const BN_EPS = 1e-5
const WIDTHS = [64, 128, 256, 512] as const
const FEATURES = 512

/** The tensors of one network, by torchvision name (without the `net1.` prefix). */
export type NetworkTensors = Map<string, Float32Tensor>

export interface NetworkSource {
  tensors: NetworkTensors
  /** Names the checkpoint and network in error messages, e.g. 'runs/a/checkpoints/best.safetensors (net1)'. */
  label: string
}

function take(source: NetworkSource, name: string, shape: number[]): Float32Array {
  const t = source.tensors.get(name)
  if (t === undefined) throw new ManError('ERR_MAN_WEIGHTS', `${source.label}: tensor '${name}' is missing`)
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ManError('ERR_MAN_WEIGHTS', `${source.label}: tensor '${name}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`)
  }
  return t.data
}

/** The class count a network's head was built for. */
export function headClasses(source: NetworkSource): number {
  const fc = source.tensors.get('fc.weight')
  if (fc === undefined || fc.shape.length !== 2) throw new ManError('ERR_MAN_WEIGHTS', `${source.label}: tensor 'fc.weight' is missing or not a matrix`)
  return fc.shape[0]!
}

/**
 * The convolution's weight and bias with BatchNorm `bn` folded in:
 * s = γ/√(σ²+ε), W' = s·W per output channel, b' = β − s·μ (in float64, then rounded once).
 */
export function foldBatchNorm(weight: Float32Array, outChannels: number, bn: { gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array }): { weight: Float32Array; bias: Float32Array } {
  const per = weight.length / outChannels
  const w = new Float32Array(weight.length)
  const b = new Float32Array(outChannels)
  for (let o = 0; o < outChannels; o++) {
    const s = bn.gamma[o]! / Math.sqrt(bn.variance[o]! + BN_EPS)
    for (let i = o * per; i < (o + 1) * per; i++) w[i] = weight[i]! * s
    b[o] = bn.beta[o]! - s * bn.mean[o]!
  }
  return { weight: w, bias: b }
}

interface ConvSpec {
  conv: string
  bn: string
  cIn: number
  cOut: number
  kernel: number
  stride: number
  pad: number
}

/** Conv with its BatchNorm folded in; returns the output value's name. */
function convBn(g: GraphBuilder, source: NetworkSource, prefix: string, input: string, spec: ConvSpec): string {
  const { cIn, cOut, kernel: k } = spec
  const raw = take(source, `${spec.conv}.weight`, [cOut, cIn, k, k])
  const bn = {
    gamma: take(source, `${spec.bn}.weight`, [cOut]),
    beta: take(source, `${spec.bn}.bias`, [cOut]),
    mean: take(source, `${spec.bn}.running_mean`, [cOut]),
    variance: take(source, `${spec.bn}.running_var`, [cOut]),
  }
  const folded = foldBatchNorm(raw, cOut, bn)
  const w = g.constant(`${prefix}${spec.conv}.weight`, [cOut, cIn, k, k], folded.weight)
  const b = g.constant(`${prefix}${spec.conv}.bias`, [cOut], folded.bias)
  return g.node('Conv', [input, w, b], `${prefix}${spec.conv}`, {
    kernel_shape: [k, k],
    strides: [spec.stride, spec.stride],
    pads: [spec.pad, spec.pad, spec.pad, spec.pad],
    dilations: [1, 1],
    group: 1,
  })
}

function basicBlock(g: GraphBuilder, source: NetworkSource, prefix: string, input: string, at: string, cIn: number, cOut: number, stride: number): string {
  let y = convBn(g, source, prefix, input, { conv: `${at}.conv1`, bn: `${at}.bn1`, cIn, cOut, kernel: 3, stride, pad: 1 })
  y = g.node('Relu', [y], `${prefix}${at}.relu1`)
  y = convBn(g, source, prefix, y, { conv: `${at}.conv2`, bn: `${at}.bn2`, cIn: cOut, cOut, kernel: 3, stride: 1, pad: 1 })
  const shortcut =
    stride !== 1 || cIn !== cOut
      ? convBn(g, source, prefix, input, { conv: `${at}.downsample.0`, bn: `${at}.downsample.1`, cIn, cOut, kernel: 1, stride, pad: 0 })
      : input
  const sum = g.node('Add', [y, shortcut], `${prefix}${at}.add`)
  return g.node('Relu', [sum], `${prefix}${at}.relu2`)
}

/** Adds one network reading `input` (N×3×H×W); returns the name of its N×C logits. */
export function addResNet18(g: GraphBuilder, source: NetworkSource, prefix: string, input: string, classes: number): string {
  let y = convBn(g, source, prefix, input, { conv: 'conv1', bn: 'bn1', cIn: 3, cOut: 64, kernel: 7, stride: 2, pad: 3 })
  y = g.node('Relu', [y], `${prefix}relu`)
  y = g.node('MaxPool', [y], `${prefix}maxpool`, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 0 })
  let cIn = 64
  WIDTHS.forEach((cOut, i) => {
    const stride = i === 0 ? 1 : 2
    y = basicBlock(g, source, prefix, y, `layer${i + 1}.0`, cIn, cOut, stride)
    y = basicBlock(g, source, prefix, y, `layer${i + 1}.1`, cOut, cOut, 1)
    cIn = cOut
  })
  y = g.node('GlobalAveragePool', [y], `${prefix}avgpool`)
  y = g.node('Flatten', [y], `${prefix}flatten`, { axis: 1 })
  const fcW = g.constant(`${prefix}fc.weight`, [classes, FEATURES], take(source, 'fc.weight', [classes, FEATURES]))
  const fcB = g.constant(`${prefix}fc.bias`, [classes], take(source, 'fc.bias', [classes]))
  return g.node('Gemm', [y, fcW, fcB], `${prefix}fc`, { transB: 1 })
}
