/**
 * The ONNX exporter without the addon: a checkpoint with seeded random
 * weights (written in TypeScript) is exported, validated at checker level,
 * its metadata read back, and run by ONNX Runtime. The comparison with
 * man-fer's own forward pass on a trained run is in onnx-integration.spec.ts.
 */
import test from 'ava'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'

import { ConfigError, exportOnnx, loadModel, ManError } from '../ts/index.ts'
import { metadataProps, parseMetadata } from '../ts/onnx/metadata.ts'
import { foldBatchNorm } from '../ts/onnx/resnet-graph.ts'
import { decodeModel, encodeModel, type OnnxModel } from '../ts/onnx/schema.ts'
import { cli, jsonLines } from './helpers/cli.ts'
import { writeFakeCheckpoint } from './helpers/fake-checkpoint.ts'
import { checkOnnxModel } from './helpers/onnx-check.ts'
import { makeTempDir, removeTempDir } from './helpers/temp-dir.ts'

const root = makeTempDir('man-fer-onnx-export-')
test.after.always(() => removeTempDir(root))

const CLASSES = ['happy', 'sad', 'neutral']
const SIZE = 32
// A run directory's layout: the exporter's default output goes beside checkpoints/.
const runDir = join(root, 'run')
const checkpoint = join(runDir, 'checkpoints', 'best.safetensors')
mkdirSync(join(runDir, 'checkpoints'), { recursive: true })
const meta = writeFakeCheckpoint(checkpoint, { classNames: CLASSES, imageSize: SIZE, seed: 5 })

function decode(file: string): OnnxModel {
  return decodeModel(readFileSync(file), file)
}

/** Deterministic pseudo-random normalised pixels. */
function pixels(n: number): Float32Array {
  const x = new Float32Array(n * 3 * SIZE * SIZE)
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 1.5
  return x
}

async function logitsOf(file: string, x: Float32Array, n: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file)
  const out = await session.run({ images: new ort.Tensor('float32', x, [n, 3, SIZE, SIZE]) })
  t_dims(out.logits!.dims, [n, CLASSES.length])
  return out.logits!.data as Float32Array
}

function t_dims(dims: readonly number[], expected: number[]): void {
  if (dims.join() !== expected.join()) throw new Error(`logits dims [${dims.join(', ')}], expected [${expected.join(', ')}]`)
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0)

test.serial('the ensemble export lands beside the checkpoints, passes checker-level validation and declares its interface', async (t) => {
  const result = await exportOnnx(runDir)
  t.is(result.file, join(runDir, 'model.onnx'))
  t.is(result.checkpoint, checkpoint)
  t.is(readFileSync(result.file).length, result.bytes)
  t.deepEqual(readdirSync(runDir).sort(), ['checkpoints', 'model.onnx'], 'no temporary file is left behind')
  const model = decode(result.file)
  t.deepEqual(checkOnnxModel(model), [])
  t.is(model.irVersion, 8)
  t.deepEqual(model.opsetImport, [{ domain: '', version: 17 }])
  t.is(model.producerName, 'man-fer')
  const input = model.graph.input[0]!
  t.is(input.name, 'images')
  t.deepEqual(input.type.tensorType.shape.dim, [{ dimParam: 'N' }, { dimValue: 3 }, { dimValue: SIZE }, { dimValue: SIZE }])
  t.deepEqual(model.graph.output.map((o) => [o.name, o.type.tensorType.shape.dim]), [['logits', [{ dimParam: 'N' }, { dimValue: 3 }]]])
  const ops = model.graph.node.map((n) => n.opType)
  t.is(ops.filter((o) => o === 'Conv').length, 40, '20 convolutions per network')
  t.false(ops.includes('BatchNormalization'), 'BatchNorm is folded into the convolutions')
  t.is(ops.filter((o) => o === 'Gemm').length, 2)
})

test('the checker catches an undefined input, a node out of order and a missing opset', (t) => {
  const model = decode(join(runDir, 'model.onnx'))
  const bad = structuredClone(model)
  bad.graph.node[3]!.input[0] = 'nowhere'
  t.true(checkOnnxModel(bad).some((p) => p.includes("reads 'nowhere'")))
  const reordered = structuredClone(model)
  reordered.graph.node.reverse()
  t.true(checkOnnxModel(reordered).some((p) => p.includes('not defined before it')))
  t.true(checkOnnxModel({ ...model, opsetImport: [] }).some((p) => p.includes('opset')))
})

test('the metadata round-trips through the file', (t) => {
  const model = decode(join(runDir, 'model.onnx'))
  const info = parseMetadata(model.metadataProps, 'model.onnx')
  const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
  t.deepEqual(info, {
    classNames: CLASSES,
    imageSize: SIZE,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    manFerVersion: version,
    configHash: meta.configHash,
    network: 'ensemble',
    epochsTrained: 0,
  })
  const keys = model.metadataProps.map((p) => p.key)
  t.true(keys.includes('preprocessing') && keys.includes('output'))
  t.deepEqual(parseMetadata(metadataProps({ ...info, network: 2, epochsTrained: null }), 'x'), { ...info, network: 2, epochsTrained: null })
})

test.serial('ONNX Runtime runs any batch size, and the ensemble is the mean of the two networks', async (t) => {
  const n1 = await exportOnnx(checkpoint, { network: 1, out: join(root, 'net1.onnx') })
  const n2 = await exportOnnx(checkpoint, { network: 2, out: join(root, 'net2.onnx') })
  t.is(n1.info.network, 1)
  t.deepEqual(checkOnnxModel(decode(n1.file)), [])
  const x = pixels(3)
  const ensemble = await logitsOf(join(runDir, 'model.onnx'), x, 3)
  const l1 = await logitsOf(n1.file, x, 3)
  const l2 = await logitsOf(n2.file, x, 3)
  t.true(maxAbsDiff(l1, l2) > 1e-3, 'the two networks differ')
  t.true(maxAbsDiff(ensemble, l1.map((v, i) => (v + l2[i]!) / 2)) < 1e-5)
  const single = await logitsOf(join(runDir, 'model.onnx'), x.subarray(3 * SIZE * SIZE, 2 * 3 * SIZE * SIZE), 1)
  t.true(maxAbsDiff(single, ensemble.subarray(3, 6)) < 1e-5, 'the second image alone gives its row of the batch')
})

test('folding BatchNorm into a convolution gives BatchNorm of the convolution', (t) => {
  // Two output channels, one input channel, 1×1 kernel.
  const weight = Float32Array.of(0.7, -1.3)
  const bn = { gamma: Float32Array.of(1.5, 0.2), beta: Float32Array.of(0.1, -0.4), mean: Float32Array.of(0.3, -2), variance: Float32Array.of(0.25, 4) }
  const folded = foldBatchNorm(weight, 2, bn)
  for (const x of [-2, 0, 0.5, 3]) {
    for (let o = 0; o < 2; o++) {
      const expected = (bn.gamma[o]! * (weight[o]! * x - bn.mean[o]!)) / Math.sqrt(bn.variance[o]! + 1e-5) + bn.beta[o]!
      t.true(Math.abs(folded.weight[o]! * x + folded.bias[o]! - expected) < 1e-5, `channel ${o} at x=${x}`)
    }
  }
})

test.serial('every supported opset loads in ONNX Runtime with the IR version it needs', async (t) => {
  for (const [opset, ir] of [[11, 6], [26, 13]] as const) {
    const r = await exportOnnx(checkpoint, { network: 1, opset, out: join(root, `opset${opset}.onnx`) })
    t.is(r.irVersion, ir)
    const model = decode(r.file)
    t.deepEqual([model.irVersion, model.opsetImport[0]!.version], [ir, opset])
    t.deepEqual(checkOnnxModel(model), [])
    await t.notThrowsAsync(() => logitsOf(r.file, pixels(1), 1), `opset ${opset}`)
  }
})

test('bad options and bad checkpoints are refused with errors that name them', async (t) => {
  for (const opset of [10, 27, 17.5]) {
    const err = await t.throwsAsync(() => exportOnnx(checkpoint, { opset, out: join(root, 'x.onnx') }), { instanceOf: ConfigError })
    t.regex(err.message, /option opset: expected an integer from 11 to 26/)
  }
  await t.throwsAsync(() => exportOnnx(checkpoint, { network: 3 as 1, out: join(root, 'x.onnx') }), { instanceOf: ConfigError, message: /option network/ })
  await t.throwsAsync(() => exportOnnx(join(root, 'net1.onnx')), { instanceOf: ManError, message: /already an ONNX model/ })
  const empty = join(root, 'empty-run')
  mkdirSync(empty, { recursive: true })
  await t.throwsAsync(() => exportOnnx(empty), { message: /holds no checkpoint/ })

  const missing = join(root, 'missing.safetensors')
  writeFakeCheckpoint(missing, { edit: (ts) => delete ts['net2.layer3.1.bn2.running_var'] })
  const err = await t.throwsAsync(() => exportOnnx(missing, { out: join(root, 'x.onnx') }), { instanceOf: ManError })
  t.is((err as ManError).code, 'ERR_MAN_WEIGHTS')
  t.true(err.message.includes(missing) && err.message.includes("'layer3.1.bn2.running_var' is missing") && err.message.includes('net2'))
  await t.notThrowsAsync(() => exportOnnx(missing, { network: 1, out: join(root, 'x.onnx') }), 'network 1 does not need net2')

  const wrong = join(root, 'wrong.safetensors')
  writeFakeCheckpoint(wrong, { edit: (ts) => (ts['net1.layer1.0.conv2.weight']!.shape = [64, 64, 9, 1]) })
  await t.throwsAsync(() => exportOnnx(wrong, { network: 1, out: join(root, 'x.onnx') }), {
    message: /'layer1\.0\.conv2\.weight' has shape \[64, 64, 9, 1\], expected \[64, 64, 3, 3\]/,
  })
  t.false(readdirSync(root).some((f) => f.endsWith('.tmp')), 'failed exports leave no temporary file')
})

test('loading an .onnx file checks its metadata and the device', async (t) => {
  const model = decode(join(root, 'net1.onnx'))
  const stripped = join(root, 'stripped.onnx')
  writeFileSync(stripped, encodeModel({ ...model, metadataProps: model.metadataProps.filter((p) => p.key !== 'class_names') }))
  const err = await t.throwsAsync(() => loadModel(stripped), { instanceOf: ManError })
  t.is((err as ManError).code, 'ERR_MAN_ONNX')
  t.regex(err.message, /stripped\.onnx: metadata 'class_names' is missing/)
  await t.throwsAsync(() => loadModel(join(root, 'net1.onnx'), { device: 'cuda' }), { instanceOf: ConfigError, message: /CPU provider/ })
  const notOnnx = join(root, 'not.onnx')
  writeFileSync(notOnnx, 'hello, world')
  await t.throwsAsync(() => loadModel(notOnnx), { message: /not\.onnx: not an ONNX model/ })
})

test('man-fer export writes the file and reports it; a bad flag is named', async (t) => {
  const out = join(root, 'cli.onnx')
  const run = await cli(['export', '--model', runDir, '--network', '2', '--opset', '13', '--out', out, '--json'])
  t.is(run.code, 0, run.stderr)
  const [event] = jsonLines(run.stdout)
  t.like(event, { type: 'export', file: out, opset: 13, irVersion: 7, network: 2, classNames: CLASSES, imageSize: SIZE })
  t.is(event!.bytes, readFileSync(out).length)
  const bad = await cli(['export', '--model', runDir, '--opset', '99', '--out', join(root, 'y.onnx')])
  t.is(bad.code, 1)
  t.regex(bad.stderr, /Invalid value for option opset \(--opset\): expected an integer from 11 to 26, got 99/)
  const help = await cli(['export', '--help'])
  t.regex(help.stdout, /--network ensemble\|1\|2/)
})
