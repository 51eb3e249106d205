/**
 * `npm run report:size -- --data DIR [--epochs 16] [--warmup 6] [--top 300]`:
 * the size of the report of a run over a synthetic set, without training.
 * The run directory is fabricated with the run directory's own writers:
 * the dataset's given and true labels, co-division codes drawn per epoch
 * (wrong labels drift into the noisy subset, right ones mostly stay clean,
 * each sample keeps its code from one epoch to the next with probability 0.7),
 * and final probabilities that favour the true class. Thumbnails are made from
 * the real images. Prints the report's bytes, part by part, as JSON.
 *
 * Make the set first, e.g. `node dist/cli/bin.js synth --out /tmp/s12k --train 12000 --test 300 --size 48 --noise-rate 0.2`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { resolveConfig } from '../ts/config/index.ts'
import { loadDataset } from '../ts/data/index.ts'
import { planData } from '../ts/train/data-plan.ts'
import { appendEvent, createRunDir, CONFIG_FILE, RUN_FILE, writeJsonAtomic, writePartition, writePartitionNames } from '../ts/train/run-dir.ts'
import { lambdaAt, lrAt } from '../ts/train/schedule.ts'
import { trueMemberLabels } from '../ts/report/final-predictions.ts'
import { writeReport } from '../ts/report/index.ts'
import { writeTrainPredictions } from '../ts/report/predictions.ts'
import { Rng } from '../ts/util/prng.ts'

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    epochs: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '6' },
    top: { type: 'string', default: '300' },
    keep: { type: 'boolean', default: false },
  },
})
if (values.data === undefined) throw new Error('give --data DIR (a synthetic set with truth.json)')
const epochs = Number(values.epochs)
const warmup = Number(values.warmup)

const config = resolveConfig({ data: { path: values.data }, train: { epochs, warmup, imageSize: 48 }, report: { html: true, top: Number(values.top) } })
const { index } = await loadDataset({ path: values.data, format: 'auto', skipBad: false })
const plan = planData(index, config)
const truth = trueMemberLabels(index, plan)
if (truth === null) throw new Error(`${values.data} has no truth.json: the fabricated history needs the true labels`)
const n = plan.trainMembers.length
const k = plan.classNames.length
const rng = new Rng(12345)

const runDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'man-fer-report-size-')), 'run')
await createRunDir(runDir)
await writeJsonAtomic(path.join(runDir, CONFIG_FILE), { ...config, out: runDir })
await writeJsonAtomic(path.join(runDir, RUN_FILE), {
  classNames: plan.classNames,
  imageSize: 48,
  method: 'man',
  dataset: { root: index.root, format: index.format, train: n, validation: 0, test: plan.test.paths.length },
})
await writePartitionNames(runDir, plan.trainNames)
await appendEvent(runDir, { event: 'start', runDir, method: 'man', epochs, device: 'cpu', classNames: plan.classNames, train: n, validation: 0, test: plan.test.paths.length, noise: null, pretrained: null, skipped: [] })

const wrong = Uint8Array.from(plan.trainLabels, (y, i) => (y !== truth[i] ? 1 : 0))
const codes = new Uint8Array(n)
const draw = (i: number, progress: number) => {
  const r = rng.next()
  const noisy = wrong[i] ? 0.3 + 0.6 * progress : 0.04
  const ambiguous = wrong[i] ? 0.15 : 0.1
  return r < noisy ? 2 : r < noisy + ambiguous ? 1 : 0
}
for (let e = 1; e <= epochs; e++) {
  const coDivision = e > warmup
  let partition = null
  let detection = null
  if (coDivision) {
    const progress = (e - warmup) / Math.max(1, epochs - warmup)
    for (let i = 0; i < n; i++) codes[i] = e === warmup + 1 || rng.next() > 0.7 ? draw(i, progress) : codes[i]!
    await writePartition(runDir, e, codes, count(codes))
    partition = count(codes)
    let hits = 0
    let flips = 0
    for (let i = 0; i < n; i++) {
      flips += wrong[i]!
      if (codes[i] === 2) hits += wrong[i]!
    }
    detection = { precision: hits / Math.max(1, partition.noisy), recall: hits / Math.max(1, flips), flippedIn: { clean: 0, ambiguous: 0, noisy: hits } }
  }
  const acc = 0.3 + 0.5 * (e / epochs)
  const confusion = Array.from({ length: k }, (_, t) => Array.from({ length: k }, (_, p) => (t === p ? Math.round(40 * acc) : Math.round((40 * (1 - acc)) / (k - 1)))))
  await appendEvent(runDir, {
    event: 'epoch',
    epoch: e,
    epochs,
    phase: coDivision ? 'co-division' : 'warmup',
    lr: lrAt(e, { lr: 1e-3, decay: 0.9 }),
    lambda: coDivision ? lambdaAt(e, epochs, { lambdaMax: 0.9, beta: 0.65, rampFraction: 0.9 }) : null,
    loss: { total: 1.5 - e / epochs, clean: 1.4 - e / epochs, ambiguous: coDivision ? 0.3 : 0, noisy: coDivision ? 0.05 : 0 },
    samples: n,
    trainAccuracy1: acc,
    trainAccuracy2: acc,
    partition,
    noiseDetection: detection,
    test: { size: 40 * k, accuracy1: acc - 0.01, accuracy2: acc - 0.02, accuracy: acc, meanClassAccuracy: acc, confusion },
    validation: null,
    isBest: true,
    timings: { coDivisionMs: 0, trainMs: 0, dataMs: 0, computeMs: 0, evalMs: 0, totalMs: 30_000 },
  })
}

const probs = new Float32Array(n * k)
const pred1 = new Int32Array(n)
const pred2 = new Int32Array(n)
for (let i = 0; i < n; i++) {
  const favoured = rng.next() < 0.85 ? truth[i]! : rng.int(k)
  const peak = 0.4 + 0.55 * rng.next()
  for (let c = 0; c < k; c++) probs[i * k + c] = c === favoured ? peak : (1 - peak) / (k - 1)
  pred1[i] = rng.next() < 0.9 ? favoured : rng.int(k)
  pred2[i] = rng.next() < 0.9 ? favoured : rng.int(k)
}
await writeTrainPredictions(runDir, { epoch: epochs, numClasses: k, givenLabels: plan.trainLabels, trueLabels: truth, pred1, pred2, probs, runtime: { torch: null, device: 'cpu' } })

const r = await writeReport(runDir)
console.log(JSON.stringify({ samples: n, epochs, coDivisionEpochs: epochs - warmup, top: r.thumbnails.shown, bytes: r.bytes, runDir: values.keep ? runDir : undefined }))
if (!values.keep) rmSync(path.dirname(runDir), { recursive: true, force: true })

function count(c: Uint8Array) {
  const out = { clean: 0, ambiguous: 0, noisy: 0 }
  for (const x of c) {
    if (x === 0) out.clean++
    else if (x === 1) out.ambiguous++
    else out.noisy++
  }
  return out
}
