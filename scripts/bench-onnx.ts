/**
 * npm run bench:onnx: images/s of an exported model under ONNX Runtime (CPU)
 * against man-fer's own predict, on the same images, both ways end to end
 * (decode, resize, normalise, two ResNet-18s) and forward only (preprocessed
 * pixels in, logits out). The weights are a fresh trainer's (speed does not
 * depend on them). Prints a table, then one JSON line; progress on stderr.
 *
 *   npm run bench:onnx -- [--images N] [--size PX] [--batch N] [--threads N] [--ms MS]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import * as ort from 'onnxruntime-node'

import { loadModel } from '../ts/model.ts'
import { getBinding } from '../ts/native/index.ts'
import { exportOnnx } from '../ts/onnx/export.ts'
import type { OnnxModel } from '../ts/onnx/onnx-model.ts'
import { CHECKPOINT_KIND } from '../ts/train/checkpoint.ts'
import { benchData } from './bench/data.ts'
import { note, rate, type Rate } from './bench/measure.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '128' },
    size: { type: 'string', default: '100' },
    batch: { type: 'string', default: '64' },
    threads: { type: 'string', default: '0' },
    ms: { type: 'string', default: '8000' },
  },
})
const int = (name: string, v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new Error(`Invalid value for option --${name}: ${v} (a non-negative integer)`)
  return n
}
const images = int('images', args.images!)
const size = int('size', args.size!)
const batch = int('batch', args.batch!)
const threads = int('threads', args.threads!)
const minMs = int('ms', args.ms!)

const load0 = loadavg()
const work = await mkdtemp(path.join(tmpdir(), 'man-fer-bench-onnx-'))
try {
  const { index } = await benchData(ROOT, undefined, images, 10)
  const paths = index.train.paths.slice(0, images)
  const classes = index.classNames.length

  note('writing an untrained checkpoint and exporting it')
  const binding = getBinding()
  const trainer = binding.Trainer.create({ numClasses: classes, device: 'cpu', threads, seed: 1, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, mixedPrecision: false })
  const checkpoint = path.join(work, 'bench.safetensors')
  const meta = { kind: CHECKPOINT_KIND, version: 1, configHash: '', method: 'man', classNames: index.classNames, imageSize: size, trainSize: 0, epoch: 1, nextBatch: 0, progress: null, history: [], best: null, pretrained: null }
  await trainer.save(checkpoint, JSON.stringify(meta))
  const exported = await exportOnnx(checkpoint, { out: path.join(work, 'model.onnx') })

  const manFer = await loadModel(checkpoint, { device: 'cpu', threads, batchSize: batch })
  const onnx = (await loadModel(exported.file, { threads, batchSize: batch })) as OnnxModel

  // Forward only: the same preprocessed pixels for both (the addon's test view of every image).
  const dataset = binding.Dataset.fromPaths(paths, { imageSize: size, seed: 0, cacheBytes: 1 << 30, threads })
  const idx = Uint32Array.from(paths.keys())
  const pixels = await dataset.views(idx, 'test', 0)
  const session = await ort.InferenceSession.create(exported.file, { intraOpNumThreads: threads, graphOptimizationLevel: 'all' })
  const per = 3 * size * size

  const rows: Array<[string, string, Rate]> = []
  const measure = async (what: string, how: string, call: () => Promise<unknown>) => {
    note(`${what}: ${how}`)
    rows.push([what, how, await rate(images, minMs, call)])
  }
  await measure('end to end', 'man-fer predict (addon: decode, resize, libtorch)', () => manFer.predict(paths))
  await measure('end to end', 'predict --model model.onnx (TypeScript decode, resize; ONNX Runtime)', () => onnx.predict(paths))
  await measure('preprocessing', 'TypeScript decode + resize + normalise (the ONNX path)', () => onnx.inputs(paths))
  await measure('forward only', 'man-fer Trainer.predict on cached decoded images', () => trainer.predict(dataset, idx, 'test', 0, batch, true))
  await measure('forward only', 'ONNX Runtime session.run on the same pixels', async () => {
    for (let from = 0; from < images; from += batch) {
      const n = Math.min(batch, images - from)
      await session.run({ images: new ort.Tensor('float32', pixels.subarray(from * per, (from + n) * per), [n, 3, size, size]) })
    }
  })

  const load1 = loadavg()
  console.log(`ONNX export: ${(exported.bytes / 1e6).toFixed(1)} MB (ensemble, opset ${exported.opset}); ${images} images of ${size} px, batch ${batch}, ` +
    `threads ${threads || 'default'}, ${cpus().length} cores, load average ${load0[0]!.toFixed(2)} → ${load1[0]!.toFixed(2)}`)
  const width = Math.max(...rows.map(([, how]) => how.length))
  for (const [what, how, r] of rows) console.log(`${what.padEnd(14)} ${how.padEnd(width)}  ${r.perS.toFixed(1).padStart(7)} images/s  (${r.perCpuS.toFixed(1)} per CPU-s)`)
  console.log(JSON.stringify({
    type: 'bench-onnx',
    bytes: exported.bytes,
    images, size, batch, threads, cores: cpus().length,
    loadavg: [load0[0], load1[0]],
    rows: rows.map(([what, how, r]) => ({ what, how, perS: r.perS, perCpuS: r.perCpuS, wallS: r.wallS })),
  }))
} finally {
  await rm(work, { recursive: true, force: true })
}
