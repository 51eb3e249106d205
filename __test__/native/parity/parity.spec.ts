/**
 * Parity with a plain-PyTorch reference of docs/method.md (reference.py,
 * man_reference.py). man-fer's seeded weights (its checkpoint) and the exact
 * views it trains on go to the reference; both sides then compute the
 * logits of f1, the four losses, the co-division and one full co-division
 * step with Adam, and every number is compared.
 *
 * The views are taken with `Dataset.views`, which draws with the same salt as
 * the trainer's training batches: if the two ever drew differently, the step
 * comparison below would fail.
 */
import test from 'ava'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import jpeg from 'jpeg-js'

import { losses } from '../../../ts/index.ts'
import { coDivide } from '../../../ts/train/co-division.ts'
import { callNative, callNativeSync } from '../../../ts/errors.ts'
import type { BindingDataset, BindingTrainerOptions, BindingStepResult } from '../../../ts/native/binding.ts'
import { getBinding } from '../../../ts/native/index.ts'
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../../ts/util/safetensors.ts'

const readSafetensors = (file: string) => decodeSafetensors(readFileSync(file), file).tensors
import { Rng } from '../../../ts/util/prng.ts'
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.ts'

const run = promisify(execFile)
const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '..', '..', '..')
const PYTHON =
  process.platform === 'win32' ? join(ROOT, '.venv', 'Scripts', 'python.exe') : join(ROOT, '.venv', 'bin', 'python')

const CLASSES = 7
const IMAGE_SIZE = 64
const EPOCH = 12
/** Three samples of each subset: BatchNorm statistics come from each subset separately. */
const CODES = Uint8Array.from([0, 1, 2, 2, 0, 1, 1, 2, 0])
const LABELS = Int32Array.from([3, 0, 6, 1, 5, 2, 4, 0, 1])
const STEP = { lambda: 0.37, omega: 0.6, gamma: 1, detachWeak: false, joint: false, batchShare: false }
const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4 }

/** Tolerances of docs/fidelity.md. */
const LOGITS_ABS = 1e-4
const LOSS_REL = 1e-6
const STATE_ABS = 1e-5

function trainerOptions(): BindingTrainerOptions {
  return { numClasses: CLASSES, device: 'cpu', threads: 0, seed: 11, mixedPrecision: false, ...ADAM }
}

/** A deterministic generator (ts/util/prng.ts), so the result is the same on every machine. */
function prng(seed: number): () => number {
  const rng = new Rng(seed)
  return () => rng.next()
}

/** A 48×48 JPEG with a gradient, a bright disc and noise, all varying with `seed`. */
function textureJpeg(seed: number): Buffer {
  const size = 48
  const rand = prng(seed * 7919 + 1)
  const cx = 10 + rand() * 28
  const cy = 10 + rand() * 28
  const tint = [rand(), rand(), rand()]
  const data = Buffer.alloc(size * size * 4)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const disc = (x - cx) ** 2 + (y - cy) ** 2 < 80 ? 90 : 0
      const o = (y * size + x) * 4
      for (let c = 0; c < 3; c++) {
        const v = 40 + tint[c]! * 120 + (x + y) * 0.8 + disc + rand() * 30
        data[o + c] = Math.max(0, Math.min(255, Math.round(v)))
      }
      data[o + 3] = 255
    }
  }
  return jpeg.encode({ width: size, height: size, data }, 92).data
}

function randomMatrix(rand: () => number, rows: number, cols: number, scale: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => (rand() * 2 - 1) * scale))
}

function tensor(data: Float32Array, shape: number[]): NamedTensor {
  return { data, shape }
}

interface ReferenceInfo {
  losses: { crossEntropy: number; kl: number; mutual: number; consistency: number }
  codes: number[]
  step: { loss: number; lossClean: number; lossAmbiguous: number; lossNoisy: number }
}

interface Fixture {
  ref: Record<string, NamedTensor>
  info: ReferenceInfo
  /** man-fer's side. */
  logitsEval: Float32Array
  logitsTrain: Float32Array
  pred1: Int32Array
  step: BindingStepResult
  after: Record<string, NamedTensor>
  lossInputs: { a: number[][]; b: number[][]; labels: number[]; lambda: number }
  coDivision: { pred1: Int32Array; pred2: Int32Array; labels: Int32Array }
}

async function pythonReady(): Promise<void> {
  const setup = `run \`npm run setup\` (it installs torch 2.11.0, numpy and safetensors into ${join(ROOT, '.venv')})`
  if (!existsSync(PYTHON)) throw new Error(`parity: the reference needs ${PYTHON}, which does not exist: ${setup}`)
  try {
    await run(PYTHON, ['-c', 'import torch, safetensors'])
  } catch (err) {
    throw new Error(`parity: ${PYTHON} cannot import torch and safetensors (${(err as Error).message.trim()}): ${setup}`)
  }
}

async function buildFixture(dir: string): Promise<Fixture> {
  const b = getBinding()
  const imageDir = join(dir, 'images')
  mkdirSync(imageDir)
  const n = CODES.length
  const paths = Array.from({ length: n }, (_, i) => {
    const p = join(imageDir, `sample-${i}.jpg`)
    writeFileSync(p, textureJpeg(i + 1))
    return p
  })
  const ds: BindingDataset = callNativeSync(() =>
    b.Dataset.fromPaths(paths, { imageSize: IMAGE_SIZE, seed: 5, cacheBytes: 1 << 24, threads: 2 }),
  )
  const all = Uint32Array.from({ length: n }, (_, i) => i)
  const noisy = all.filter((i) => CODES[i] === 2)
  const shape = (count: number) => [count, 3, IMAGE_SIZE, IMAGE_SIZE]
  const views = {
    test: tensor(await callNative(() => ds.views(all, 'test', EPOCH)), shape(n)),
    weak: tensor(await callNative(() => ds.views(all, 'weak', EPOCH)), shape(n)),
    strong: tensor(await callNative(() => ds.views(noisy, 'strong', EPOCH)), shape(noisy.length)),
  }
  const viewsFile = join(dir, 'views.safetensors')
  writeFileSync(viewsFile, encodeSafetensors(views))

  // The seeded starting weights, as the reference will load them.
  const initial = callNativeSync(() => b.Trainer.create(trainerOptions()))
  const checkpoint = join(dir, 'initial.safetensors')
  await callNative(() => initial.save(checkpoint, '{}'))
  const logitsEval = await callNative(() => initial.debugLogits(ds, all, 'test', EPOCH, 0, false))
  const pred = await callNative(() => initial.predict(ds, all, 'test', EPOCH, 4, false))
  // Last: a train-mode pass moves this trainer's BatchNorm statistics.
  const logitsTrain = await callNative(() => initial.debugLogits(ds, all, 'test', EPOCH, 0, true))

  // One co-division step from the same starting point, on a second trainer.
  const stepper = callNativeSync(() => b.Trainer.create(trainerOptions()))
  await callNative(() => stepper.load(checkpoint))
  const step = await callNative(() =>
    stepper.coDivisionStep(ds, { epoch: EPOCH, indices: all, labels: LABELS, codes: CODES }, STEP),
  )
  const afterFile = join(dir, 'after.safetensors')
  await callNative(() => stepper.save(afterFile, '{}'))

  const rand = prng(2024)
  // Ordinary logits, plus a row of large ones where a naive softmax would overflow.
  const a = [...randomMatrix(rand, 5, CLASSES, 4), Array.from({ length: CLASSES }, (_, c) => (c === 2 ? 60 : -45 + c))]
  const bm = [...randomMatrix(rand, 5, CLASSES, 4), Array.from({ length: CLASSES }, (_, c) => (c === 5 ? -50 : 35 - 3 * c))]
  const lossInputs = { a, b: bm, labels: [0, 3, 6, 2, 2, 4], lambda: 0.42 }

  // Real predictions against the batch's labels, plus every (pred1, pred2, label) of three classes.
  const triples = Array.from({ length: 27 }, (_, k) => [k % 3, Math.floor(k / 3) % 3, Math.floor(k / 9)])
  const coDivision = {
    pred1: Int32Array.from([...pred.pred1, ...triples.map((t) => t[0]!)]),
    pred2: Int32Array.from([...pred.pred2, ...triples.map((t) => t[1]!)]),
    labels: Int32Array.from([...LABELS, ...triples.map((t) => t[2]!)]),
  }

  const request = {
    checkpoint,
    views: viewsFile,
    numClasses: CLASSES,
    losses: lossInputs,
    coDivision: { pred1: Array.from(coDivision.pred1), pred2: Array.from(coDivision.pred2), labels: Array.from(coDivision.labels) },
    step: { ...ADAM, ...STEP, labels: Array.from(LABELS), codes: Array.from(CODES) },
  }
  const requestFile = join(dir, 'request.json')
  writeFileSync(requestFile, JSON.stringify(request))
  const outFile = join(dir, 'reference.safetensors')
  const infoFile = join(dir, 'reference.json')
  try {
    await run(PYTHON, [join(HERE, 'reference.py'), requestFile, outFile, infoFile], { maxBuffer: 1 << 24 })
  } catch (err) {
    const e = err as Error & { stderr?: string }
    throw new Error(`parity: reference.py failed: ${e.stderr?.trim() || e.message}`)
  }
  return {
    ref: readSafetensors(outFile),
    info: JSON.parse(await readFile(infoFile, 'utf8')) as ReferenceInfo,
    logitsEval,
    logitsTrain,
    pred1: pred.pred1,
    step,
    after: readSafetensors(afterFile),
    lossInputs,
    coDivision,
  }
}

let dir: string | undefined
let fixture: Promise<Fixture> | undefined

test.before(async () => {
  await pythonReady()
  dir = makeTempDir('man-parity-')
  fixture = buildFixture(dir)
  // A failure here is reported by every test that awaits the fixture.
  fixture.catch(() => {})
})

test.after.always(() => {
  if (dir !== undefined) removeTempDir(dir)
})

/** Largest |a − b| and where it is. */
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; at: number } {
  if (a.length !== b.length) return { diff: Number.POSITIVE_INFINITY, at: -1 }
  let diff = 0
  let at = 0
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!)
    // NaN on either side must fail, so it counts as an infinite difference.
    if (!(d <= diff)) {
      diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d
      at = i
    }
  }
  return { diff, at }
}

function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), Number.MIN_VALUE)
}

test('f1 logits in eval and train mode match the reference within 1e-4', async (t) => {
  const f = await fixture!
  const evalRef = f.ref.logits_eval!
  const trainRef = f.ref.logits_train!
  t.deepEqual(evalRef.shape, [CODES.length, CLASSES])
  const e = maxAbsDiff(f.logitsEval, evalRef.data as Float32Array)
  const tr = maxAbsDiff(f.logitsTrain, trainRef.data as Float32Array)
  t.log(`max |Δ| eval ${e.diff.toExponential(2)}, train ${tr.diff.toExponential(2)}`)
  t.true(e.diff <= LOGITS_ABS, `eval-mode logits differ by ${e.diff} at ${e.at}`)
  t.true(tr.diff <= LOGITS_ABS, `train-mode logits differ by ${tr.diff} at ${tr.at}`)
  // Train and eval mode must really differ (fresh BatchNorm statistics), or the two checks are one.
  t.true(maxAbsDiff(f.logitsEval, f.logitsTrain).diff > 1e-3, 'train- and eval-mode logits coincide')
  // The logits path and the prediction path agree on f1's argmax.
  const argmax = Array.from({ length: CODES.length }, (_, i) => {
    const row = Array.from(f.logitsEval.subarray(i * CLASSES, (i + 1) * CLASSES))
    return row.indexOf(Math.max(...row))
  })
  t.deepEqual(argmax, Array.from(f.pred1))
})

test('the public losses match the reference within 1e-6 relative (float64)', async (t) => {
  const f = await fixture!
  const { a, b, labels, lambda } = f.lossInputs
  const ours = {
    crossEntropy: await losses.crossEntropy(a, labels),
    kl: await losses.kl(a, b),
    mutual: await losses.mutual(a, b, labels, lambda),
    consistency: await losses.consistency(a, b),
  }
  for (const name of ['crossEntropy', 'kl', 'mutual', 'consistency'] as const) {
    const r = relDiff(ours[name], f.info.losses[name])
    t.log(`${name}: ours ${ours[name]}, reference ${f.info.losses[name]}, relative Δ ${r.toExponential(2)}`)
    t.true(Number.isFinite(ours[name]) && r <= LOSS_REL, `${name}: ${ours[name]} vs reference ${f.info.losses[name]}`)
  }
})

test('co-division is identical to the reference', async (t) => {
  const f = await fixture!
  const { pred1, pred2, labels } = f.coDivision
  const ours = coDivide(pred1, pred2, labels)
  t.deepEqual(Array.from(ours.codes), f.info.codes)
  // The enumerated triples reach every subset.
  t.deepEqual([...new Set(f.info.codes)].sort(), [0, 1, 2])
})

test('one co-division step: losses, parameters, BatchNorm statistics and Adam moments match within 1e-5', async (t) => {
  const f = await fixture!
  t.deepEqual([f.step.clean, f.step.ambiguous, f.step.noisy], [3, 3, 3])
  for (const name of ['loss', 'lossClean', 'lossAmbiguous', 'lossNoisy'] as const) {
    const r = relDiff(f.step[name], f.info.step[name])
    t.true(r <= STATE_ABS, `${name}: ${f.step[name]} vs reference ${f.info.step[name]} (relative Δ ${r})`)
  }
  const stateNames = (m: Record<string, NamedTensor>) =>
    Object.keys(m)
      .filter((k) => k.startsWith('net') || k.startsWith('adam.'))
      .sort()
  const names = stateNames(f.ref)
  t.deepEqual(stateNames(f.after), names, 'checkpoint and reference hold different tensors')
  t.true(names.some((k) => k.endsWith('running_var')) && names.some((k) => k.startsWith('adam.exp_avg_sq.net2.')))
  // Adam's first step moves a weight by lr·g/(|g| + ε): where the gradient is
  // within a few orders of ε (|g| < 100ε) that ratio turns float32 rounding
  // of g into a visible difference, whichever side is right. There a weight
  // only has to stay within one step (lr) of the reference, and such weights
  // must be rare; the gradient itself is checked through Adam's moments.
  const illConditionedBelow = 100 * ADAM.eps
  let illConditioned = 0
  let weights = 0
  let worst = { name: '', diff: 0 }
  const failures: string[] = []
  for (const name of names) {
    const ours = f.after[name]!
    const ref = f.ref[name]!
    if (ours.shape.join() !== ref.shape.join()) {
      failures.push(`${name}: shape [${ours.shape}] vs [${ref.shape}]`)
      continue
    }
    const a = ours.data as Float32Array
    const r = ref.data as Float32Array
    // Moments are compared relative to the size of the tensor's values (exp_avg_sq is ~g²).
    const moment = name.startsWith('adam.')
    let scale = 0
    if (moment) for (const v of r) scale = Math.max(scale, Math.abs(v))
    const tol = moment ? STATE_ABS * scale : STATE_ABS
    const exp = f.ref[`adam.exp_avg.${name}`]?.data as Float32Array | undefined
    if (exp !== undefined) weights += r.length
    let bad = 0
    let first = -1
    let tensorWorst = 0
    for (let i = 0; i < r.length; i++) {
      const d = Math.abs(a[i]! - r[i]!)
      const gradient = exp === undefined ? Number.POSITIVE_INFINITY : Math.abs(exp[i]! / (1 - ADAM.beta1))
      if (gradient >= illConditionedBelow) tensorWorst = Math.max(tensorWorst, d)
      if (d <= tol) continue
      if (gradient < illConditionedBelow && d <= ADAM.lr) {
        illConditioned++
      } else {
        bad++
        if (first < 0) first = i
      }
    }
    const rel = moment ? tensorWorst / Math.max(scale, Number.MIN_VALUE) : tensorWorst
    if (rel > worst.diff) worst = { name, diff: rel }
    if (bad > 0) failures.push(`${name}: ${bad} value(s) off, first at ${first}: ${a[first]} vs ${r[first]}`)
  }
  t.log(
    `${names.length} tensors; largest |Δ| away from |g| < 100ε (relative to the tensor's scale for Adam moments) ` +
      `${worst.diff.toExponential(2)} in ${worst.name}; ` +
      `${illConditioned} of ${weights} weights with |g| < ${illConditionedBelow} differ by more than ${STATE_ABS} (at most lr)`,
  )
  t.deepEqual(failures, [])
  t.true(illConditioned <= weights * 1e-5, `${illConditioned} ill-conditioned weights is too many to be rounding`)
  // The step really moved the weights (else the comparison proves nothing about Adam).
  const before = readSafetensors(join(dir!, 'initial.safetensors'))['net1.fc.weight']!.data as Float32Array
  t.true(maxAbsDiff(before, f.after['net1.fc.weight']!.data as Float32Array).diff > 1e-4)
})
