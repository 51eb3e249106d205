/**
 * A man-fer checkpoint file with seeded random weights, written without the
 * addon: both networks' tensors under their torchvision names and the
 * checkpoint metadata, as crates/man-core/src/train/checkpoint.rs lays them
 * out. For exporter specs that need a checkpoint but not a trained model.
 */
import { writeFileSync } from 'node:fs'

import { encodeSafetensors, type NamedTensor } from '../../ts/util/safetensors.ts'
import { CHECKPOINT_KIND, type CheckpointMeta } from '../../ts/train/checkpoint.ts'
import { Rng } from '../../ts/util/prng.ts'

/** Every tensor of one ResNet-18 with `classes` outputs: name → shape. */
export function resnet18Shapes(classes: number): Map<string, number[]> {
  const shapes = new Map<string, number[]>()
  const bn = (name: string, c: number) => {
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) shapes.set(`${name}.${p}`, [c])
  }
  shapes.set('conv1.weight', [64, 3, 7, 7])
  bn('bn1', 64)
  let cIn = 64
  ;[64, 128, 256, 512].forEach((cOut, i) => {
    for (const b of [0, 1]) {
      const at = `layer${i + 1}.${b}`
      const inC = b === 0 ? cIn : cOut
      shapes.set(`${at}.conv1.weight`, [cOut, inC, 3, 3])
      bn(`${at}.bn1`, cOut)
      shapes.set(`${at}.conv2.weight`, [cOut, cOut, 3, 3])
      bn(`${at}.bn2`, cOut)
      if (b === 0 && i > 0) {
        shapes.set(`${at}.downsample.0.weight`, [cOut, inC, 1, 1])
        bn(`${at}.downsample.1`, cOut)
      }
    }
    cIn = cOut
  })
  shapes.set('fc.weight', [classes, 512])
  shapes.set('fc.bias', [classes])
  return shapes
}

export interface FakeCheckpointOptions {
  classNames?: string[]
  imageSize?: number
  seed?: number
  /** Changes the tensors before writing (drop one, change a shape) for error specs. */
  edit?: (tensors: Record<string, NamedTensor>) => void
}

export function writeFakeCheckpoint(file: string, options: FakeCheckpointOptions = {}): CheckpointMeta {
  const classNames = options.classNames ?? ['happy', 'sad', 'neutral']
  const rng = new Rng(options.seed ?? 1)
  const tensors: Record<string, NamedTensor> = {}
  for (const net of ['net1', 'net2']) {
    for (const [name, shape] of resnet18Shapes(classNames.length)) {
      const n = shape.reduce((a, b) => a * b, 1)
      const data = new Float32Array(n)
      const fan = shape.length === 4 ? shape[1]! * shape[2]! * shape[3]! : 512
      for (let i = 0; i < n; i++) {
        const u = rng.next()
        if (name.endsWith('running_var')) data[i] = 0.5 + u
        else if (name.endsWith('running_mean') || name.endsWith('.bias')) data[i] = (u - 0.5) * 0.2
        else if (/bn1?\.weight$|bn2\.weight$|downsample\.1\.weight$/.test(name)) data[i] = 0.8 + 0.4 * u
        else data[i] = (u - 0.5) * 2 * Math.sqrt(3 / fan)
      }
      tensors[`${net}.${name}`] = { shape, data }
    }
  }
  tensors['adam.exp_avg.net1.fc.bias'] = { shape: [classNames.length], data: new Float32Array(classNames.length) }
  options.edit?.(tensors)
  const meta: CheckpointMeta = {
    kind: CHECKPOINT_KIND,
    version: 1,
    configHash: 'f'.repeat(64),
    method: 'man',
    classNames,
    imageSize: options.imageSize ?? 32,
    trainSize: 10,
    epoch: 3,
    nextBatch: 0,
    progress: null,
    history: [],
    best: null,
    pretrained: null,
  }
  writeFileSync(
    file,
    encodeSafetensors(tensors, {
      format: 'man-fer-trainer-1',
      num_classes: String(classNames.length),
      'adam.step': '0',
      'adam.lr': '0.001',
      metadata: JSON.stringify(meta),
    }),
  )
  return meta
}
