/**
 * A tiny trained run exported to ONNX and checked against man-fer itself: on
 * the same preprocessed images ONNX Runtime gives man-fer's logits (each
 * network and the ensemble) to 1e-4; `predict` through the .onnx file gives
 * the run directory's answers; the example classifies with ONNX Runtime alone
 * in a process where libtorch cannot be loaded.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import jpeg from 'jpeg-js'
import * as ort from 'onnxruntime-node'
import { PNG } from 'pngjs'

import { exportOnnx, loadModel, synthesize, train } from '../../ts/index.ts'
import { getBinding } from '../../ts/native/index.ts'
import { OnnxModel, softmaxRows } from '../../ts/onnx/onnx-model.ts'
import { IMAGENET_STD } from '../../ts/onnx/preprocess.ts'
import { decodeModel } from '../../ts/onnx/schema.ts'
import { argmaxRows } from '../../ts/train/evaluation.ts'
import { readCheckpointMeta } from '../../ts/train/checkpoint.ts'
import { checkpointPath } from '../../ts/train/run-dir.ts'
import { Rng } from '../../ts/util/prng.ts'
import { cli, jsonLines, ROOT } from '../helpers/cli.ts'
import { checkOnnxModel } from '../helpers/onnx-check.ts'
import { decodeSafetensors, encodeSafetensors } from '../../ts/util/safetensors.ts'
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.ts'

const root = makeTempDir('man-fer-onnx-')
test.after.always(() => removeTempDir(root))

const SIZE = 32
const data = join(root, 'data')
const run = join(root, 'run')
const images: string[] = []
let classes = 0

/** A PNG of part of an image (non-square, so the two resize passes differ). */
function pngCrop(jpegFile: string, out: string, width: number, height: number): void {
  const src = jpeg.decode(readFileSync(jpegFile), { useTArray: true, formatAsRGBA: true })
  const png = new PNG({ width, height })
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) png.data[(y * width + x) * 4 + c] = src.data[(y * src.width + x) * 4 + c]!
    }
  }
  writeFileSync(out, PNG.sync.write(png))
}

test.before(async () => {
  // 48 px images, trained and exported at 32 px: every view is an antialiased downscale.
  await synthesize({ out: data, train: 32, test: 10, size: 48, seed: 11 })
  const result = await train({
    data: { path: data },
    train: { epochs: 1, warmup: 1, batchSize: 16, imageSize: SIZE, seed: 3 },
    runtime: { device: 'cpu', threads: 1, dataThreads: 1, evalBatchSize: 64 },
    out: run,
  })
  classes = result.history[0]!.test.confusion.length
  const dir = join(data, 'Image', 'aligned')
  images.push(...readdirSync(dir).filter((f) => f.startsWith('test_')).sort().map((f) => join(dir, f)))
  const png = join(root, 'crop.png')
  pngCrop(images[0]!, png, 40, 29)
  images.push(png)
})

async function manFerLogits(): Promise<{ pixels: Float32Array; l1: Float32Array; l2: Float32Array; probs: Float32Array }> {
  const b = getBinding()
  const trainer = b.Trainer.create({ numClasses: classes, device: 'cpu', threads: 1, seed: 0, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, mixedPrecision: false })
  await trainer.load(checkpointPath(run, 'best'))
  const dataset = b.Dataset.fromPaths(images, { imageSize: SIZE, seed: 0, cacheBytes: 1 << 24, threads: 1 })
  const idx = Uint32Array.from(images.keys())
  const pixels = await dataset.views(idx, 'test', 0)
  const l1 = await trainer.debugLogits(dataset, idx, 'test', 0, 0, false)
  const l2 = await trainer.debugLogits(dataset, idx, 'test', 0, 1, false)
  const { probs } = await trainer.predict(dataset, idx, 'test', 0, 64, true)
  return { pixels, l1, l2, probs: probs! }
}

async function onnxLogits(file: string, pixels: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file)
  const { logits } = await session.run({ images: new ort.Tensor('float32', pixels, [images.length, 3, SIZE, SIZE]) })
  return logits!.data as Float32Array
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0)

test.serial('man-fer export writes the ensemble of a trained run; each network exports too', async (t) => {
  const exported = await cli(['export', '--model', run])
  t.is(exported.code, 0, exported.stderr)
  t.regex(exported.stdout, /model\.onnx: \d+\.\d MB, ensemble of 2 ResNet-18s, 7 classes, input images \[N,3,32,32\], output logits, opset 17/)
  for (const network of [1, 2] as const) await exportOnnx(run, { network })
  for (const f of ['model.onnx', 'model-net1.onnx', 'model-net2.onnx']) {
    t.deepEqual(checkOnnxModel(decodeModel(readFileSync(join(run, f)), f)), [], f)
  }
})

test.serial('on the same preprocessed images ONNX Runtime gives man-fer\'s logits to 1e-4, for each network and the ensemble', async (t) => {
  const m = await manFerLogits()
  const ensemble = m.l1.map((v, i) => (v + m.l2[i]!) / 2)
  const cases: Array<[string, Float32Array]> = [['model-net1.onnx', m.l1], ['model-net2.onnx', m.l2], ['model.onnx', ensemble]]
  for (const [file, expected] of cases) {
    const got = await onnxLogits(join(run, file), m.pixels)
    const diff = maxAbsDiff(got, expected)
    t.log(`${file}: max |ONNX − man-fer| = ${diff.toExponential(2)} over ${got.length} logits (largest |logit| ${Math.max(...expected.map(Math.abs)).toFixed(3)})`)
    t.true(diff <= 1e-4, `${file}: ${diff}`)
    t.deepEqual(argmaxRows(got, images.length, classes), argmaxRows(expected, images.length, classes), `${file}: argmax`)
  }
  t.true(maxAbsDiff(m.l1, m.l2) > 1e-3, 'the two networks differ, so each export is checked against its own')
  const probs = softmaxRows(await onnxLogits(join(run, 'model.onnx'), m.pixels), images.length, classes)
  t.true(maxAbsDiff(probs, m.probs) <= 1e-5, "softmax of the ensemble logits is man-fer's predict")
})

test.serial('BatchNorm statistics far from the identity fold exactly as libtorch applies them', async (t) => {
  // A fresh trainer's checkpoint with every BatchNorm's γ, β, running mean and variance redrawn.
  const b = getBinding()
  const fresh = b.Trainer.create({ numClasses: classes, device: 'cpu', threads: 1, seed: 9, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, mixedPrecision: false })
  const file = join(root, 'bn.safetensors')
  await fresh.save(file, JSON.stringify(await readCheckpointMeta(checkpointPath(run, 'best'))))
  const { tensors, metadata } = decodeSafetensors(readFileSync(file), file)
  const rng = new Rng(17)
  const draw = (lo: number, hi: number) => lo + (hi - lo) * rng.next()
  let changed = 0
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name.startsWith('adam.')) continue
    const range = name.endsWith('running_var') ? [0.2, 3] : name.endsWith('running_mean') ? [-0.5, 0.5] : null
    const bn = /(bn\d|downsample\.1)\.(weight|bias)$/.exec(name)
    const r = range ?? (bn === null ? null : bn[2] === 'weight' ? [0.5, 1.5] : [-0.3, 0.3])
    if (r === null) continue
    tensor.data.forEach((_, i) => ((tensor.data as Float32Array)[i] = draw(r[0]!, r[1]!)))
    changed++
  }
  t.is(changed, 2 * 20 * 4, 'every BatchNorm tensor of both networks')
  writeFileSync(file, encodeSafetensors(tensors, metadata))
  const trainer = b.Trainer.create({ numClasses: classes, device: 'cpu', threads: 1, seed: 0, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, mixedPrecision: false })
  await trainer.load(file)
  const dataset = b.Dataset.fromPaths(images, { imageSize: SIZE, seed: 0, cacheBytes: 1 << 24, threads: 1 })
  const idx = Uint32Array.from(images.keys())
  const pixels = await dataset.views(idx, 'test', 0)
  const l1 = await trainer.debugLogits(dataset, idx, 'test', 0, 0, false)
  const l2 = await trainer.debugLogits(dataset, idx, 'test', 0, 1, false)
  const exported = await exportOnnx(file, { out: join(root, 'bn.onnx') })
  const got = await onnxLogits(exported.file, pixels)
  const expected = l1.map((v, i) => (v + l2[i]!) / 2)
  const diff = maxAbsDiff(got, expected)
  t.log(`max |ONNX − man-fer| = ${diff.toExponential(2)} (largest |logit| ${Math.max(...expected.map(Math.abs)).toFixed(3)})`)
  t.true(diff <= 1e-4, `${diff}`)
  t.deepEqual(argmaxRows(got, images.length, classes), argmaxRows(expected, images.length, classes))
})

/** Man-fer's addon decodes JPEG with the Rust image crate, the ONNX path with jpeg-js: they differ by up to 3 grey levels in some pixels. */
const JPEG_VIEW_TOLERANCE = 3 / 255 / Math.min(...IMAGENET_STD)

test.serial("man-fer's test view is reproduced in TypeScript: from PNG bit for bit, from JPEG up to the decoders' difference", async (t) => {
  const { pixels } = await manFerLogits()
  const onnx = (await loadModel(join(run, 'model.onnx'))) as OnnxModel
  const ours = await onnx.inputs(images)
  const per = 3 * SIZE * SIZE
  const png = images.length - 1
  t.is(maxAbsDiff(ours.subarray(png * per), pixels.subarray(png * per)), 0, 'PNG decodes the same, so the views are equal')
  const jpegDiff = maxAbsDiff(ours.subarray(0, png * per), pixels.subarray(0, png * per))
  t.log(`JPEG views: max |TypeScript − addon| = ${jpegDiff.toExponential(2)} (${(jpegDiff * 255 * 0.224).toFixed(2)} grey levels)`)
  t.true(jpegDiff <= JPEG_VIEW_TOLERANCE, `${jpegDiff}`)
})

test.serial("predict through the .onnx file gives the run directory's answers (library and CLI)", async (t) => {
  const fromRun = await loadModel(run)
  const fromOnnx = await loadModel(join(run, 'model.onnx'))
  t.deepEqual(fromOnnx.classNames, fromRun.classNames)
  const a = await fromRun.predict(images)
  const b = await fromOnnx.predict([...images.slice(0, 3), readFileSync(images[3]!), ...images.slice(4)])
  t.deepEqual(b.map((p) => p.label), a.map((p) => p.label))
  const diffs = a.map((p, i) => Math.max(...p.probabilities.map((v, c) => Math.abs(v - b[i]!.probabilities[c]!))))
  const png = diffs.pop()!
  t.log(`probabilities: max |ONNX path − run directory| = ${png.toExponential(2)} from PNG, ${Math.max(...diffs).toExponential(2)} from JPEG`)
  t.true(png <= 1e-5, `PNG: ${png}`)
  t.true(Math.max(...diffs) <= 5e-3, `JPEG: ${Math.max(...diffs)}`)

  const pngOnly = [images.at(-1)!]
  const viaRun = await cli(['predict', '--model', run, ...pngOnly])
  const viaOnnx = await cli(['predict', '--model', join(run, 'model.onnx'), ...pngOnly])
  t.is(viaRun.code, 0, viaRun.stderr)
  t.is(viaOnnx.code, 0, viaOnnx.stderr)
  t.is(viaOnnx.stdout, viaRun.stdout, 'the same lines for the same pixels')
  const allRun = await cli(['predict', '--model', run, '--json', ...images])
  const allOnnx = await cli(['predict', '--model', join(run, 'model.onnx'), '--json', ...images])
  const labels = (stdout: string) => jsonLines(stdout).map((e) => [e.image, e.label])
  t.deepEqual(labels(allOnnx.stdout), labels(allRun.stdout))
})

function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

test.serial('the example classifies with ONNX Runtime alone where libtorch cannot be loaded', async (t) => {
  const noTorch: NodeJS.ProcessEnv = { ...process.env, MAN_LIBTORCH: join(root, 'no-libtorch-here'), NO_COLOR: '1' }
  delete noTorch.LIBTORCH
  delete noTorch.LD_LIBRARY_PATH
  // The control: in this environment man-fer's own model cannot run.
  const control = await cli(['predict', '--model', run, images[0]!], { env: noTorch })
  t.is(control.code, 1)
  t.regex(control.stderr, /needs libtorch 2\.11\.0/)

  // Labels from man-fer's own model; probabilities from its ONNX path, which decodes JPEG with the same library as the example.
  const labels = (await (await loadModel(run)).predict(images)).map((p) => p.label)
  const tops = (await (await loadModel(join(run, 'model.onnx'))).predict(images)).map((p) => Math.max(...p.probabilities))
  const expected = labels.map((label, i) => ({ label, top: tops[i]! }))
  const example = await runNode([join(ROOT, 'examples', 'onnx-classify', 'classify.mjs'), join(run, 'model.onnx'), ...images], noTorch)
  t.is(example.code, 0, example.stderr)
  const lines = example.stdout.trim().split('\n')
  t.is(lines.length, images.length)
  lines.forEach((line, i) => {
    const [file, label, percent] = line.split('\t')
    t.is(file, images[i])
    t.is(label, expected[i]!.label, `${file}: label`)
    t.true(Math.abs(Number.parseFloat(percent!) - 100 * expected[i]!.top) <= 0.051, `${file}: ${percent} vs ${100 * expected[i]!.top}`)
  })

  // man-fer's own ONNX path needs no libtorch either.
  const viaOnnx = await cli(['predict', '--model', join(run, 'model.onnx'), '--json', images[0]!], { env: noTorch })
  t.is(viaOnnx.code, 0, viaOnnx.stderr)
  t.is(JSON.parse(viaOnnx.stdout.trim()).label, expected[0]!.label)
})
