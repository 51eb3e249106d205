/** The suspect score, its ranking, the detection scores and the sample table, on hand-made inputs. */
import { promises as fs } from 'node:fs'
import path from 'node:path'

import test from 'ava'

import { ManError } from '../ts/errors.ts'
import { readTrainPredictions, trainPredictionsPath, writeTrainPredictions } from '../ts/report/predictions.ts'
import { SAMPLE_COLUMNS, sampleRows, toCsv, toJson } from '../ts/report/samples-table.ts'
import { detectionByClass, flippedFrom, scoreSamples, suspectPairs, topKPrecision } from '../ts/report/suspects.ts'
import { boxDownscale } from '../ts/report/thumbnails.ts'
import { tempDir } from './helpers/orch.ts'

// Three classes, four samples; given labels 0, 1, 2, 0.
const given = Int32Array.from([0, 1, 2, 0])
const probs = Float32Array.from([
  0.8, 0.1, 0.1, // sample 0: confident in its label
  0.7, 0.2, 0.1, // sample 1: the ensemble prefers class 0
  0.1, 0.1, 0.8, // sample 2: confident in its label
  0.1, 0.6, 0.3, // sample 3: the ensemble prefers class 1
])
const pred1 = Int32Array.from([0, 0, 2, 1])
const pred2 = Int32Array.from([0, 1, 2, 1])
// Co-division codes (0 clean, 1 ambiguous, 2 noisy) of epochs 3 and 4.
const history = [
  { epoch: 3, codes: Uint8Array.from([0, 2, 0, 1]) },
  { epoch: 4, codes: Uint8Array.from([0, 1, 0, 2]) },
]

test('label_score = ½·p(given) + ½·(1 − recency-weighted noisy share); ranked lowest first', (t) => {
  const s = scoreSamples({ numClasses: 3, givenLabels: given, pred1, pred2, probs, history })
  // Weights 1 (epoch 3) and 2 (epoch 4); ambiguous counts half.
  const share = [0, (1 * 1 + 2 * 0.5) / 3, 0, (1 * 0.5 + 2 * 1) / 3]
  const pGiven = [0.8, 0.2, 0.8, 0.1]
  share.forEach((sh, i) => {
    t.true(Math.abs(s.noisyShare[i]! - sh) < 1e-6, `noisy share of ${i}`)
    t.true(Math.abs(s.labelScore[i]! - (0.5 * pGiven[i]! + 0.5 * (1 - sh))) < 1e-6, `label score of ${i}`)
  })
  t.deepEqual(Array.from(s.ranking), [3, 1, 0, 2], 'most suspect first; equal scores keep index order')
  t.deepEqual(Array.from(s.rank), [3, 2, 4, 1])
  t.deepEqual(Array.from(s.predicted), [0, 0, 2, 1])
  t.deepEqual(Array.from(s.timesNoisy), [0, 1, 0, 1])
  t.deepEqual(Array.from(s.timesAmbiguous), [0, 1, 0, 1])
  t.deepEqual(Array.from(s.firstNoisyEpoch), [0, 3, 0, 4])
  t.deepEqual(Array.from(s.isLabelIssue), [0, 0, 0, 1], 'the noisy subset of the last co-division epoch')
})

test('without co-division (CE baseline) the score is p(given) and a label issue is both networks disagreeing', (t) => {
  const s = scoreSamples({ numClasses: 3, givenLabels: given, pred1, pred2, probs, history: [] })
  t.deepEqual(Array.from(s.labelScore, (x) => Math.round(x * 100) / 100), [0.8, 0.2, 0.8, 0.1])
  t.deepEqual(Array.from(s.isLabelIssue), [0, 0, 0, 1])
  t.deepEqual(Array.from(s.ranking), [3, 1, 0, 2])
})

test('top-k precision against the flips, and per-class detection by given label', (t) => {
  const s = scoreSamples({ numClasses: 3, givenLabels: given, pred1, pred2, probs, history })
  const flipped = flippedFrom(given, Int32Array.from([0, 0, 2, 1]))
  t.deepEqual(Array.from(flipped), [0, 1, 0, 1])
  t.deepEqual(topKPrecision(s.ranking, flipped), { k: 2, hits: 2, precision: 1, baseRate: 0.5 })
  t.deepEqual(topKPrecision(s.ranking, flipped, 3), { k: 3, hits: 2, precision: 2 / 3, baseRate: 0.5 })
  const byClass = detectionByClass(history, given, flipped, 3)
  t.deepEqual(byClass.map((e) => e.epoch), [3, 4])
  // Epoch 3: sample 1 (class 1, flipped) is noisy; epoch 4: sample 3 (class 0, flipped) is noisy.
  t.deepEqual(byClass[0]!.classes[1], { label: 1, flipped: 1, noisy: 1, hits: 1, precision: 1, recall: 1 })
  t.deepEqual(byClass[0]!.classes[0], { label: 0, flipped: 1, noisy: 0, hits: 0, precision: null, recall: 0 })
  t.deepEqual(byClass[1]!.classes[0], { label: 0, flipped: 1, noisy: 1, hits: 1, precision: 1, recall: 1 })
  t.deepEqual(byClass[1]!.classes[2], { label: 2, flipped: 0, noisy: 0, hits: 0, precision: null, recall: null })
  const pairs = suspectPairs(s, given, 3)
  t.is(pairs[0]![1], 1, 'sample 3 moves from class 0 to class 1')
  t.is(pairs.flat().reduce((a, b) => a + b, 0), 1)
})

test('the sample table: cleanlab names first, rows by rank, CSV quoting, JSON head', (t) => {
  const s = scoreSamples({ numClasses: 3, givenLabels: given, pred1, pred2, probs, history })
  const rows = sampleRows({
    classNames: ['a', 'b', 'c'],
    names: ['x.jpg', 'has,comma.jpg', 'has "quote".jpg', 'd/y.jpg'],
    givenLabels: given,
    pred1,
    pred2,
    trueLabels: Int32Array.from([0, 0, 2, 1]),
    history,
    scores: s,
  })
  t.deepEqual(rows.map((r) => r.index), [3, 1, 0, 2])
  t.deepEqual(rows[0], {
    rank: 1,
    index: 3,
    path: 'd/y.jpg',
    given_label: 'a',
    predicted_label: 'b',
    label_score: Math.round(s.labelScore[3]! * 1e6) / 1e6,
    is_label_issue: true,
    predicted_probability: 0.6,
    given_label_probability: 0.1,
    times_noisy: 1,
    times_ambiguous: 1,
    first_noisy_epoch: 4,
    noisy_share: Math.round(s.noisyShare[3]! * 1e6) / 1e6,
    f1_prediction: 'b',
    f2_prediction: 'b',
    partition_history: 'AN',
    true_label: 'b',
    is_flipped: true,
  })
  const csv = toCsv(rows).split('\r\n')
  t.is(csv[0], SAMPLE_COLUMNS.join(','))
  t.is(csv.length, 6, 'header, four rows, and the final line break')
  t.true(csv[2]!.includes(',"has,comma.jpg",'))
  t.true(csv[4]!.includes(',"has ""quote"".jpg",'))
  t.true(csv[3]!.includes(',,'), 'a sample never judged noisy has an empty first_noisy_epoch')
  const json = JSON.parse(toJson(rows, { classNames: ['a', 'b', 'c'] })) as { format: string; samples: unknown[] }
  t.is(json.format, 'man-fer-label-issues')
  t.deepEqual(json.samples, rows)
})

test('train-final.json round-trips, and a damaged one is refused naming the file and field', async (t) => {
  const dir = await tempDir(t)
  t.is(await readTrainPredictions(dir), null, 'a run without the file')
  const p = {
    epoch: 4,
    numClasses: 3,
    givenLabels: given,
    trueLabels: null,
    pred1,
    pred2,
    probs,
    runtime: { torch: '2.11.0', device: 'cpu' },
  }
  await writeTrainPredictions(dir, p)
  t.deepEqual(await readTrainPredictions(dir), p)
  const file = trainPredictionsPath(dir)
  const body = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>
  await fs.writeFile(file, JSON.stringify({ ...body, pred1: Buffer.alloc(5).toString('base64') }))
  const err = await t.throwsAsync(readTrainPredictions(dir), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_RUN_DIR')
  t.true(err?.message.startsWith(`${file}: pred1 holds 5 bytes, expected 16`))
  t.deepEqual(await fs.readdir(path.dirname(file)), ['train-final.json'], 'no temp file left behind')
  await t.throwsAsync(writeTrainPredictions(dir, { ...p, pred2: Int32Array.from([0]) }), { message: /pred2 has 1 entries for 4 samples/ })
})

test('thumbnails: the box filter averages the pixels each target pixel covers', (t) => {
  // 4×2 RGBA: left half black, right half white → 2×1: black, white; 1×1 (maxSide 1): mid grey.
  const data = new Uint8Array(4 * 2 * 4)
  for (let y = 0; y < 2; y++) for (let x = 2; x < 4; x++) data.fill(255, (y * 4 + x) * 4, (y * 4 + x) * 4 + 4)
  for (let i = 3; i < data.length; i += 4) data[i] = 255
  const half = boxDownscale({ width: 4, height: 2, data }, 2)
  t.deepEqual([half.width, half.height], [2, 1])
  t.deepEqual(Array.from(half.data), [0, 0, 0, 255, 255, 255, 255, 255])
  const one = boxDownscale({ width: 4, height: 2, data }, 1)
  t.deepEqual([one.width, one.height], [1, 1])
  t.deepEqual(Array.from(one.data), [128, 128, 128, 255])
})
