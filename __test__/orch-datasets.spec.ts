import { promises as fs } from 'node:fs'
import path from 'node:path'

import test from 'ava'

import { setBinding } from '../ts/native/index.ts'
import { balancedOrder } from '../ts/train/epoch-order.ts'
import { train } from '../ts/train/train.ts'
import { FakeBinding } from './fake-binding.ts'
import { writeTree } from './fixtures-helpers/data-trees.ts'
import { ferplusFiles, type FerRow } from './fixtures-helpers/fer-files.ts'
import { classOfName, makeIndex, readJsonLines, tempDir, tinyConfig } from './helpers/orch.ts'

// One binding is installed process-wide, so these specs run one at a time.
test.afterEach.always(() => setBinding(undefined))

interface Opened {
  how: 'paths' | 'buffers'
  n: number
  names: string[]
  crops?: number[]
  pngs?: number
}

/** The fake binding, recording how each dataset was opened. */
function install(): { fake: FakeBinding; opened: Opened[] } {
  const fake = new FakeBinding({ classOf: classOfName })
  const opened: Opened[] = []
  const { fromPaths, fromBuffers } = fake.Dataset
  fake.Dataset.fromPaths = (paths, options) => {
    opened.push({ how: 'paths', n: paths.length, names: paths, ...(options.crops ? { crops: options.crops } : {}) })
    return fromPaths(paths, options)
  }
  fake.Dataset.fromBuffers = (buffers, names, options) => {
    const pngs = buffers.filter((b) => Buffer.from(b).subarray(1, 4).toString('latin1') === 'PNG').length
    opened.push({ how: 'buffers', n: buffers.length, names, pngs })
    return fromBuffers(buffers, names, options)
  }
  setBinding(fake)
  return { fake, opened }
}

const VOTES = [
  [8, 2, 0, 0, 0, 0, 0, 0, 0, 0], // neutral
  [0, 9, 1, 0, 0, 0, 0, 0, 0, 0], // happiness
  [0, 0, 7, 3, 0, 0, 0, 0, 0, 0], // surprise
  [0, 0, 0, 0, 0, 0, 0, 0, 3, 7], // not a face: left out
]

test.serial('FERPlus trains from in-memory PNGs; PublicTest is the validation split; the left-out rows are noted', async (t) => {
  const { fake, opened } = install()
  const root = await tempDir(t)
  const rows: FerRow[] = []
  for (let i = 0; i < 16; i++) {
    const usage = i < 10 ? 'Training' : i < 13 ? 'PublicTest' : 'PrivateTest'
    rows.push([usage, `fer${String(i).padStart(7, '0')}.png`, VOTES[i % 4]!, i])
  }
  await writeTree(root, ferplusFiles(rows))
  const dir = path.join(root, 'run')
  const result = await train(tinyConfig(dir, { data: { path: root }, train: { epochs: 2, batchSize: 2 } }))
  t.deepEqual(opened.map((o) => [o.how, o.n, o.pngs]), [['buffers', 10, 10], ['buffers', 2, 2]])
  t.is(opened[0]!.names[0], path.join(root, 'fer0000000.png'))
  const start = (await readJsonLines(path.join(dir, 'metrics.jsonl'))).find((e) => e.event === 'start')!
  t.is(start.train, 8)
  t.is(start.validation, 2)
  t.is(start.test, 2)
  t.deepEqual(start.dataNotes, ['FERPlus majority rule left out 4 of 16 rows: 4 mostly not a face'])
  t.is(result.best?.selectedBy, 'validation')
  const trained = new Set(fake.steps.flatMap((s) => s.indices))
  // The training split holds the 8 Training images, then the 2 PublicTest ones (positions 8 and 9).
  t.deepEqual([...trained].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7], 'PublicTest images are never trained on')
  const run = JSON.parse(await fs.readFile(path.join(dir, 'run.json'), 'utf8'))
  t.is(run.dataset.format, 'ferplus')
})

test.serial('AffectNet with crop: the face boxes go to the addon with the paths', async (t) => {
  const { opened } = install()
  const root = await tempDir(t)
  const header = 'subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal'
  const rows = (split: string, n: number) =>
    Array.from({ length: n }, (_, i) => `${split}/img-${i}-class-${i % 8}.jpg,${i},2,30,40,1;2,${i % 8},0,0`)
  const files: Record<string, string | null> = {
    'training.csv': [header, ...rows('t', 8)].join('\n'),
    'validation.csv': [header, ...rows('v', 3)].join('\n'),
  }
  for (const r of [...rows('t', 8), ...rows('v', 3)]) files[`Manually_Annotated_Images/${r.split(',')[0]}`] = null
  await writeTree(root, files)
  const dir = path.join(root, 'run')
  await train(tinyConfig(dir, { data: { path: root, crop: true, classes: 7 }, train: { epochs: 1, warmup: 1, batchSize: 2 } }))
  t.deepEqual(opened.map((o) => [o.how, o.n]), [['paths', 7], ['paths', 3]])
  t.deepEqual(opened[0]!.crops!.slice(0, 8), [0, 2, 30, 40, 1, 2, 30, 40])
  t.is(opened[0]!.crops!.length, 28)
  const run = JSON.parse(await fs.readFile(path.join(dir, 'run.json'), 'utf8'))
  t.is(run.classNames.length, 7)
})

test.serial('a noise file: trained on its labels, noise.json names it, co-division is scored against the clean labels', async (t) => {
  const { fake } = install()
  const dir = await tempDir(t)
  const index = makeIndex({ train: 12, test: 4 })
  const names = index.train.paths.map((p) => path.basename(p))
  const noisy = Int32Array.from(index.train.labels, (y, i) => (i % 4 === 0 ? (y + 1) % 7 : y))
  const file = path.join(dir, 'noise.txt')
  await fs.writeFile(file, names.map((n, i) => `${n} ${noisy[i]! + 1}`).join('\n'))
  const result = await train(tinyConfig(path.join(dir, 'run'), { noise: { file }, train: { epochs: 2 } }), { dataset: index })
  for (const s of fake.steps) t.deepEqual(s.labels, s.indices.map((i) => noisy[i]!))
  const record = JSON.parse(await fs.readFile(path.join(dir, 'run', 'noise.json'), 'utf8'))
  t.is(record.file, file)
  t.deepEqual(record.flipped, [0, 4, 8])
  t.is(record.rate, 0.25)
  t.truthy(result.history[1]!.noiseDetection)
  const start = (await readJsonLines(path.join(dir, 'run', 'metrics.jsonl'))).find((e) => e.event === 'start')!
  t.deepEqual(start.noise, { rate: 0.25, flipped: 3, file })
})

test.serial('train.sampler balanced: every epoch visits the seeded class-balanced draw', async (t) => {
  const { fake } = install()
  const dir = await tempDir(t)
  const index = makeIndex({ train: 14, test: 4, classes: 3 })
  index.train.labels = Int32Array.from({ length: 14 }, (_, i) => (i < 10 ? 0 : i < 13 ? 1 : 2))
  index.train.paths = Array.from(index.train.labels, (y, i) => `/fake/train/class-${y}/img-${i}.png`)
  await train(tinyConfig(dir, { train: { epochs: 2, warmup: 2, batchSize: 7, sampler: 'balanced' } }), { dataset: index })
  for (const epoch of [1, 2]) {
    const seen = fake.steps.filter((s) => s.epoch === epoch).flatMap((s) => s.indices)
    t.deepEqual(seen, Array.from(balancedOrder(index.train.labels, 7, epoch)))
  }
})
