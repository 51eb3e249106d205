/**
 * The report of runs trained on the fake binding: what train() stores and
 * writes at its end, the CSV/JSON of every sample (columns, order, the
 * documented score recomputed here from the run directory), the top-k
 * precision on a synthetic set with known flips, and `man-fer report`.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'

import test from 'ava'

import { main } from '../ts/cli/main.ts'
import { ManError } from '../ts/errors.ts'
import { PARTITION_AMBIGUOUS, PARTITION_NOISY } from '../ts/native/binding.ts'
import { setBinding } from '../ts/native/index.ts'
import { writeReport } from '../ts/report/index.ts'
import { readTrainPredictions, trainPredictionsPath } from '../ts/report/predictions.ts'
import { SAMPLE_COLUMNS } from '../ts/report/samples-table.ts'
import { readPartition } from '../ts/train/run-dir.ts'
import { train } from '../ts/train/train.ts'
import { FakeBinding } from './fake-binding.ts'
import { classOfName, makeIndex, tempDir, tinyConfig } from './helpers/orch.ts'

test.afterEach.always(() => setBinding(undefined))

const N = 200
/** Every fifth training label is wrong: a base rate of 20%. */
const FLIPS = Array.from({ length: N / 5 }, (_, i) => i * 5)

async function fakeRun(t: Parameters<typeof tempDir>[0], overrides: Record<string, unknown> = {}, flip: number[] | null = FLIPS) {
  // Networks that get the true class 85% of the time, as a model that has learnt the set would.
  const fake = new FakeBinding({ classOf: classOfName, skill: [0.85, 0.85] })
  setBinding(fake)
  const dir = await tempDir(t)
  const index = makeIndex({ train: N, test: 30, ...(flip === null ? {} : { flip }) })
  const result = await train(tinyConfig(dir, { train: { epochs: 5, warmup: 2 }, ...overrides }), { dataset: index })
  return { dir, index, result, fake }
}

/** Parses the RFC 4180 CSV the report writes (quoted fields may hold commas and doubled quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  for (const line of text.split('\r\n').filter((l) => l !== '')) {
    const fields: string[] = []
    const re = /("((?:[^"]|"")*)"|[^,]*)(,|$)/g
    let m: RegExpExecArray | null
    while ((m = re.exec(line)) !== null) {
      fields.push(m[2] !== undefined ? m[2].replace(/""/g, '"') : m[1]!)
      if (m[3] === '') break
    }
    rows.push(fields)
  }
  return rows
}

test.serial('train() ends by storing the final predictions on the training set and writing report.html', async (t) => {
  const { dir, index, result, fake } = await fakeRun(t)
  t.deepEqual(result.report, { file: path.join(dir, 'report.html'), bytes: (await fs.stat(path.join(dir, 'report.html'))).size })
  const stored = (await readTrainPredictions(dir))!
  t.not(stored, null)
  // The last predict call: the test view of every training sample, with probabilities, after the last epoch.
  const last = fake.calls.filter((c) => c.method === 'predict').at(-1)!
  t.is(last.detail!.view, 'test')
  t.is(last.detail!.epoch, 5)
  t.deepEqual(last.detail!.indices, Array.from({ length: N }, (_, i) => i))
  t.deepEqual(Array.from(stored.pred1), last.detail!.pred1)
  t.deepEqual(Array.from(stored.pred2), last.detail!.pred2)
  t.deepEqual(Array.from(stored.givenLabels), Array.from(index.train.labels))
  t.deepEqual(Array.from(stored.trueLabels!), Array.from(index.trueTrainLabels!))
  t.is(stored.epoch, 5)
  t.is(stored.runtime.device, 'cpu')
  const html = await fs.readFile(path.join(dir, 'report.html'), 'utf8')
  t.false(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src="(?!data:)/i.test(html), 'nothing is loaded from outside the file')
  t.regex(html, /MAN's judgement is in-sample/)
})

test.serial('the CSV lists every sample most suspect first, by the documented score, and top-k beats the base rate', async (t) => {
  // A synthetic set with injected noise: 20% of the labels flipped by train() itself, listed in noise.json.
  const { dir } = await fakeRun(t, { noise: { rate: 0.2, seed: 5 } }, null)
  const flips = (JSON.parse(await fs.readFile(path.join(dir, 'noise.json'), 'utf8')) as { flipped: number[] }).flipped
  t.is(flips.length, N / 5)
  const csvFile = path.join(dir, 'out', 'samples.csv')
  const jsonFile = path.join(dir, 'out', 'samples.json')
  await fs.mkdir(path.dirname(csvFile))
  const r = await writeReport(dir, { out: path.join(dir, 'out', 'r.html'), csv: csvFile, json: jsonFile, top: 10 })
  t.is(r.samples, N)
  t.is(r.predictions, 'stored')

  const rows = parseCsv(await fs.readFile(csvFile, 'utf8'))
  t.deepEqual(rows[0], [...SAMPLE_COLUMNS])
  for (const c of ['given_label', 'predicted_label', 'label_score', 'is_label_issue']) t.true(rows[0]!.includes(c), c)
  const col = (name: string) => rows[0]!.indexOf(name)
  const body = rows.slice(1)
  t.is(body.length, N)

  // The score, recomputed from the run directory alone: ½·p(given) + ½·(1 − noisy share), epoch k of K weighing k.
  const p = (await readTrainPredictions(dir))!
  const epochs = [3, 4, 5]
  const codes = await Promise.all(epochs.map((e) => readPartition(dir, e)))
  const expected = Array.from({ length: N }, (_, i) => {
    let share = 0
    codes.forEach((c, k) => {
      const code = c.codes[i]
      share += (k + 1) * (code === PARTITION_NOISY ? 1 : code === PARTITION_AMBIGUOUS ? 0.5 : 0)
    })
    share /= 1 + 2 + 3
    return 0.5 * p.probs[i * 7 + p.givenLabels[i]!]! + 0.5 * (1 - share)
  })
  body.forEach((row) => {
    const i = Number(row[col('index')])
    t.true(Math.abs(Number(row[col('label_score')]) - expected[i]!) < 1e-5, `label_score of sample ${i}`)
    t.is(row[col('path')], codes[0]!.names[i])
    t.is(row[col('is_label_issue')], codes[2]!.codes[i] === PARTITION_NOISY ? 'true' : 'false')
    t.is(row[col('is_flipped')], flips.includes(i) ? 'true' : 'false')
  })
  // Top suspects are the samples with the lowest label_score (the highest suspicion), in order.
  const byScore = Array.from({ length: N }, (_, i) => i).sort((a, b) => expected[a]! - expected[b]! || a - b)
  const listed = body.map((row) => Number(row[col('index')]))
  const scoreOf = (i: number) => expected[i]!
  listed.forEach((i, r) => t.true(Math.abs(scoreOf(i) - scoreOf(byScore[r]!)) < 1e-6, `rank ${r + 1}`))
  t.deepEqual(body.map((row) => Number(row[col('rank')])), Array.from({ length: N }, (_, i) => i + 1))

  // Precision of the k = |flips| most suspect samples against the flipped labels.
  const k = flips.length
  const hits = listed.slice(0, k).filter((i) => flips.includes(i)).length
  t.log(`top-${k} suspects: ${hits} flipped, precision ${((100 * hits) / k).toFixed(1)}% (base rate 20.0%)`)
  t.deepEqual(r.topK, { k, hits, precision: hits / k, baseRate: 0.2 })
  t.true(hits / k > 0.2, 'the ranking finds the flipped labels better than chance')

  const json = JSON.parse(await fs.readFile(jsonFile, 'utf8')) as { columns: string[]; samples: Array<Record<string, unknown>> }
  t.deepEqual(json.columns, [...SAMPLE_COLUMNS])
  t.deepEqual(json.samples.map((s) => s.index), listed)
})

test.serial('report.html off: report.html is not written; a run without final predictions says what is missing', async (t) => {
  const { dir, result } = await fakeRun(t, { report: { html: false } })
  t.is(result.report, null)
  await t.throwsAsync(fs.access(path.join(dir, 'report.html')))
  await fs.rm(trainPredictionsPath(dir))
  const err = await t.throwsAsync(writeReport(dir, { computePredictions: false }), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_RUN_DIR')
  t.regex(err!.message, /has no predictions\/train-final\.json/)
  const notRun = await t.throwsAsync(writeReport(path.join(dir, 'partitions')), { instanceOf: ManError })
  t.regex(notRun!.message, /is not a run directory \(no config\.json\)/)
})

test.serial('man-fer report RUN --csv FILE --top N prints where the report is and how good the ranking is', async (t) => {
  const { dir } = await fakeRun(t)
  let stdout = ''
  let stderr = ''
  const streams = { out: { write: (s: string) => (stdout += s) }, err: { write: (s: string) => (stderr += s) } }
  const csv = path.join(dir, 's.csv')
  const code = await main(['report', dir, '--csv', csv, '--top', '5', '--out', path.join(dir, 'x.html')], { streams, env: {} })
  t.is(code, 0, stderr)
  t.regex(stdout, new RegExp(`^report: ${path.join(dir, 'x.html').replace(/[.]/g, '\\.')} \\([\\d.]+ [KM]B: charting library \\d+ KB`, 'm'))
  t.regex(stdout, new RegExp(`^training images: ${N}, flagged \\(is_label_issue\\): \\d+$`, 'm'))
  t.regex(stdout, /^top 40 suspects: \d+ flipped labels, precision [\d.]+% \(base rate 20\.0%\)$/m)
  t.true(stdout.includes(`csv: ${csv}`))
  t.regex(stdout, /thumbnails: 5 image\(s\) could not be read/, 'the fake dataset has no image files')

  stdout = ''
  t.is(await main(['report', dir, '--json'], { streams, env: {} }), 0)
  const event = JSON.parse(stdout.trim()) as { type: string; html: string; samples: number }
  t.is(event.type, 'report')
  t.is(event.html, path.join(dir, 'report.html'))

  stderr = ''
  t.is(await main(['report'], { streams, env: {} }), 1)
  t.regex(stderr, /report needs exactly one RUN directory/)
})
