import { promises as fs } from 'node:fs'
import path from 'node:path'

import test from 'ava'

import { ConfigError, ManError } from '../ts/errors.ts'
import { injectNoise } from '../ts/data/noise.ts'
import { PARTITION_AMBIGUOUS, PARTITION_CLEAN, PARTITION_NOISY } from '../ts/native/binding.ts'
import { setBinding } from '../ts/native/index.ts'
import { readCheckpointMeta } from '../ts/train/checkpoint.ts'
import { checkpointPath, readPartition } from '../ts/train/run-dir.ts'
import { resumeTrain, train } from '../ts/train/train.ts'
import type { FakeCall } from './fake-binding.ts'
import { FakeBinding } from './fake-binding.ts'
import { resnet18StateDictNames } from './helpers/resnet18-names.ts'
import { classOfName, makeIndex, readJsonLines, REFERENCE_LOOP, tempDir, tinyConfig, withoutTimings } from './helpers/orch.ts'

// One binding is installed process-wide, so these specs run one at a time.
test.afterEach.always(() => setBinding(undefined))

function install(options: ConstructorParameters<typeof FakeBinding>[0] = {}): FakeBinding {
  const fake = new FakeBinding({ classOf: classOfName, ...options })
  setBinding(fake)
  return fake
}

function predictCalls(fake: FakeBinding, view?: string): FakeCall[] {
  return fake.calls.filter((c) => c.method === 'predict' && (view === undefined || c.detail?.view === view))
}

/** The fake's ensemble: f1's answer on even rows, f2's on odd rows. */
function ensembleOf(call: FakeCall): number[] {
  const p1 = call.detail!.pred1 as number[]
  const p2 = call.detail!.pred2 as number[]
  return p1.map((v, i) => (i % 2 === 0 ? v : p2[i]!))
}

function accuracyOf(pred: number[], labels: ArrayLike<number>): number {
  let ok = 0
  pred.forEach((p, i) => (ok += p === labels[i] ? 1 : 0))
  return ok / pred.length
}

test.serial('a MAN run: warm-up steps, then co-division with λ, ω, γ; lr per epoch; partitions and metrics', async (t) => {
  const fake = install()
  const dir = await tempDir(t)
  const index = makeIndex({ train: 22, test: 9 })
  const result = await train(tinyConfig(dir, REFERENCE_LOOP), { dataset: index })

  t.is(result.runDir, path.resolve(dir))
  t.false(result.stopped)
  t.is(result.history.length, 4)
  t.deepEqual(result.history.map((h) => h.phase), ['warmup', 'co-division', 'co-division', 'co-division'])

  // lr of epoch e = 1e-3 · 0.9^(e−1), set once per epoch.
  const lrs = fake.calls.filter((c) => c.method === 'setLr').map((c) => c.detail!.lr as number)
  t.is(lrs.length, 4)
  lrs.forEach((lr, i) => t.true(Math.abs(lr - 1e-3 * Math.pow(0.9, i)) < 1e-15))
  // Native memory is handed back once at the end of every epoch.
  t.is(fake.calls.filter((c) => c.method === 'releaseMemory').length, 4)

  for (let epoch = 1; epoch <= 4; epoch++) {
    const steps = fake.steps.filter((s) => s.epoch === epoch)
    // 22 samples in batches of 4: five full batches and one of two.
    t.deepEqual(steps.map((s) => s.indices.length), [4, 4, 4, 4, 4, 2])
    t.deepEqual(steps.flatMap((s) => s.indices).sort((a, b) => a - b), Array.from({ length: 22 }, (_, i) => i))
    for (const s of steps) t.deepEqual(s.labels, s.indices.map((i) => index.train.labels[i]!))
    if (epoch === 1) {
      t.true(steps.every((s) => s.kind === 'warmup'))
      continue
    }
    const er = 0.9 * 4
    const lambda = 0.9 * Math.exp(-0.65 * (1 - epoch / er) ** 2)
    for (const s of steps) {
      t.is(s.kind, 'co-division')
      t.true(Math.abs(s.lambda! - lambda) < 1e-12)
      t.is(s.omega, 0.6)
      t.is(s.gamma, 1)
    }
    // The partition is the docs/method.md rule over the co-division predictions (weak views of this epoch).
    const call = predictCalls(fake, 'weak').find((c) => c.detail!.epoch === epoch)!
    t.truthy(call, `co-division prediction of epoch ${epoch}`)
    t.deepEqual(call.detail!.indices, Array.from({ length: 22 }, (_, i) => i))
    const p1 = call.detail!.pred1 as number[]
    const p2 = call.detail!.pred2 as number[]
    const expected = Array.from(index.train.labels, (y, i) => {
      const hits = (p1[i] === y ? 1 : 0) + (p2[i] === y ? 1 : 0)
      return hits === 2 ? PARTITION_CLEAN : hits === 1 ? PARTITION_AMBIGUOUS : PARTITION_NOISY
    })
    const partition = await readPartition(dir, epoch)
    t.deepEqual(Array.from(partition.codes), expected)
    t.is(partition.names.length, 22)
    t.is(partition.names[0], path.join('train', 'class-3', 'img-0000.png'))
    t.deepEqual(result.history[epoch - 1]!.partition, partition.counts)
    t.is(partition.counts.clean + partition.counts.ambiguous + partition.counts.noisy, 22)
    // Each step gets the codes of its own samples.
    for (const s of steps) t.deepEqual(s.codes, s.indices.map((i) => expected[i]!))
  }
  // Nothing to score noise against without true labels.
  t.true(result.history.every((h) => h.noiseDetection === null))

  // Test accuracy of f1, f2 and the ensemble, from the test-view predictions of the test set (dataset 1).
  const testCalls = predictCalls(fake, 'test').filter((c) => c.dataset === 1)
  t.is(testCalls.length, 4)
  result.history.forEach((h, i) => {
    const call = testCalls[i]!
    t.is(call.detail!.epoch, i + 1)
    t.true(call.detail!.withProbs as boolean)
    t.is(h.test.accuracy1, accuracyOf(call.detail!.pred1 as number[], index.test.labels))
    t.is(h.test.accuracy2, accuracyOf(call.detail!.pred2 as number[], index.test.labels))
    t.is(h.test.accuracy, accuracyOf(ensembleOf(call), index.test.labels))
    t.is(h.test.confusion.flat().reduce((a, b) => a + b, 0), 9)
    t.is(h.validation, null)
  })
  const accs = result.history.map((h) => h.test.accuracy)
  const bestEpoch = accs.indexOf(Math.max(...accs)) + 1
  t.is(result.best?.epoch, bestEpoch)
  t.is(result.best?.selectedBy, 'test')
  t.is(result.lastTestAccuracy, accs[3]!)
  t.true(Math.abs(result.meanLast5TestAccuracy! - accs.reduce((a, b) => a + b, 0) / 4) < 1e-12)

  // metrics.jsonl: start, one well-formed epoch line per epoch, end.
  const events = await readJsonLines(path.join(dir, 'metrics.jsonl'))
  t.deepEqual(events.map((e) => e.event), ['start', 'epoch', 'epoch', 'epoch', 'epoch', 'end'])
  events.filter((e) => e.event === 'epoch').forEach((e, i) => {
    t.is(e.epoch, i + 1)
    t.is(typeof e.time, 'string')
    t.is((e.test as { accuracy: number }).accuracy, accs[i]!)
  })
  const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'))
  t.is(config.train.epochs, 4)
  t.is(config.man.omega, 0.6)
  const best = await readCheckpointMeta(checkpointPath(dir, 'best'))
  t.is(best.history.length, bestEpoch)
  t.deepEqual(best.classNames, index.classNames)
  const last = await readCheckpointMeta(checkpointPath(dir, 'last'))
  t.is(last.epoch, 5)
  t.is(last.nextBatch, 0)
  // The starting weights, then one checkpoint write per epoch: on a best epoch `last` is linked to `best`'s file.
  t.is(fake.calls.filter((c) => c.method === 'save').length, 1 + 4)
  const [bestStat, lastStat] = await Promise.all(['best', 'last'].map((w) => fs.stat(checkpointPath(dir, w as 'best' | 'last'))))
  t.is(bestStat!.ino === lastStat!.ino, bestEpoch === 4)
})

test.serial('callbacks are called in order and awaited', async (t) => {
  const fake = install()
  const dir = await tempDir(t)
  const log: string[] = []
  const delay = () => new Promise((r) => setTimeout(r, 2))
  await train(tinyConfig(dir, { train: { epochs: 2 } }), {
    dataset: makeIndex({ train: 10, test: 4 }),
    async onBatch(info) {
      const before = fake.steps.length
      log.push(`batch ${info.epoch}.${info.batch}/${info.batches} steps=${before}`)
      await delay()
      t.is(fake.steps.length, before, 'no step starts while onBatch is pending')
    },
    async onEpoch(summary) {
      const before = fake.calls.length
      log.push(`epoch ${summary.epoch} steps=${fake.steps.length}`)
      await delay()
      t.is(fake.calls.length, before, 'nothing runs while onEpoch is pending')
    },
  })
  t.deepEqual(log, [
    'batch 1.1/3 steps=1',
    'batch 1.2/3 steps=2',
    'batch 1.3/3 steps=3',
    'epoch 1 steps=3',
    'batch 2.1/3 steps=4',
    'batch 2.2/3 steps=5',
    'batch 2.3/3 steps=6',
    'epoch 2 steps=6',
  ])
})

test.serial('abort after batch k writes checkpoints/last; resume replays from batch k+1 and ends identically', async (t) => {
  const index = makeIndex({ train: 21, test: 7 })
  const config = (dir: string) => tinyConfig(dir, { train: { epochs: 5, warmup: 2 } })

  const straight = install()
  const dirA = await tempDir(t)
  const full = await train(config(dirA), { dataset: index })

  const first = install()
  const dirB = await tempDir(t)
  const controller = new AbortController()
  const reason = new Error('interrupted by the test')
  await t.throwsAsync(
    train(config(dirB), {
      dataset: index,
      signal: controller.signal,
      onBatch(info) {
        if (info.epoch === 3 && info.batch === 2) controller.abort(reason)
      },
    }),
    { is: reason },
  )
  const saved = await readCheckpointMeta(checkpointPath(dirB, 'last'))
  t.is(saved.epoch, 3)
  t.is(saved.nextBatch, 2)
  t.is(saved.history.length, 2)
  t.is(first.steps.at(-1)?.epoch, 3)
  t.is(first.steps.filter((s) => s.epoch === 3).length, 2)

  // A new process: a fresh binding, state only from the run directory.
  const second = install()
  const resumed = await resumeTrain(dirB, { dataset: index })
  const firstResumed = second.steps[0]!
  const straightEpoch3 = straight.steps.filter((s) => s.epoch === 3)
  t.is(firstResumed.epoch, 3)
  t.deepEqual(firstResumed.indices, straightEpoch3[2]!.indices, 'resumes at batch k+1 of the same order')
  const strip = (s: (typeof straight.steps)[number]) => ({ ...s, trainer: 0 })
  t.deepEqual([...first.steps, ...second.steps].map(strip), straight.steps.map(strip))
  // No co-division prediction was redone for the epoch in progress.
  t.false(predictCalls(second, 'weak').some((c) => c.detail!.epoch === 3))

  t.deepEqual(withoutTimings(resumed.history), withoutTimings(full.history))
  t.deepEqual(resumed.best, full.best)
  t.is(resumed.meanLast5TestAccuracy, full.meanLast5TestAccuracy)

  const events = await readJsonLines(path.join(dirB, 'metrics.jsonl'))
  t.deepEqual(events.map((e) => e.event), ['start', 'epoch', 'epoch', 'abort', 'resume', 'epoch', 'epoch', 'epoch', 'end'])
  t.deepEqual(events.filter((e) => e.event === 'epoch').map((e) => e.epoch), [1, 2, 3, 4, 5])
})

test.serial('a callback can stop training cleanly; resume continues, and metrics.jsonl keeps one line per epoch', async (t) => {
  const index = makeIndex({ train: 12, test: 5 })
  const dir = await tempDir(t)
  const straightDir = await tempDir(t)
  install()
  const full = await train(tinyConfig(straightDir), { dataset: index })

  install()
  const stopped = await train(tinyConfig(dir), {
    dataset: index,
    onBatch: (info) => (info.epoch === 2 && info.batch === 1 ? 'stop' : undefined),
  })
  t.true(stopped.stopped)
  t.is(stopped.epochsCompleted, 1)
  const meta = await readCheckpointMeta(checkpointPath(dir, 'last'))
  t.deepEqual([meta.epoch, meta.nextBatch], [2, 1])

  install()
  const again = await resumeTrain(dir, {
    dataset: index,
    onEpoch: (s) => (s.epoch === 3 ? { stop: true } : undefined),
  })
  t.true(again.stopped)
  t.is(again.epochsCompleted, 3)

  // A crash between the checkpoint and the metrics line loses the line; resume restores it.
  const file = path.join(dir, 'metrics.jsonl')
  const lines = (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l !== '')
  const withoutEpoch3 = lines.filter((l) => !(JSON.parse(l).event === 'epoch' && JSON.parse(l).epoch === 3))
  await fs.writeFile(file, `${withoutEpoch3.join('\n')}\n`)

  install()
  const done = await resumeTrain(dir, { dataset: index })
  t.false(done.stopped)
  t.deepEqual(withoutTimings(done.history), withoutTimings(full.history))
  const events = await readJsonLines(file)
  t.deepEqual(events.filter((e) => e.event === 'epoch').map((e) => e.epoch), [1, 2, 3, 4])
  t.is(events.filter((e) => e.event === 'stop').length, 2)
  t.is(events.at(-1)?.event, 'end')
})

test.serial('stopping after the last batch of an epoch resumes straight into its evaluation', async (t) => {
  const index = makeIndex({ train: 10, test: 4 })
  install()
  const full = await train(tinyConfig(await tempDir(t), { train: { epochs: 3 } }), { dataset: index })
  const dir = await tempDir(t)
  const first = install()
  await train(tinyConfig(dir, { train: { epochs: 3 } }), {
    dataset: index,
    onBatch: (info) => (info.epoch === 2 && info.batch === info.batches ? { stop: true } : undefined),
  })
  const meta = await readCheckpointMeta(checkpointPath(dir, 'last'))
  t.deepEqual([meta.epoch, meta.nextBatch], [2, 3])
  t.is(first.steps.length, 6)
  const second = install()
  const done = await resumeTrain(dir, { dataset: index })
  t.deepEqual(second.steps.map((s) => s.epoch), [3, 3, 3])
  t.deepEqual(withoutTimings(done.history), withoutTimings(full.history))
})

test.serial('noise detection flows through when true labels are known', async (t) => {
  install()
  const dir = await tempDir(t)
  const flip = [0, 3, 4, 9, 13]
  const index = makeIndex({ train: 16, test: 5, flip })
  const result = await train(tinyConfig(dir, { train: { epochs: 3 } }), { dataset: index })
  t.is(result.history[0]!.noiseDetection, null, 'no partition during warm-up')
  for (const h of result.history.slice(1)) {
    const { codes } = await readPartition(dir, h.epoch)
    const noisy = Array.from(codes.keys()).filter((i) => codes[i] === PARTITION_NOISY)
    const hit = noisy.filter((i) => flip.includes(i)).length
    const nd = h.noiseDetection!
    t.truthy(nd)
    t.is(nd.precision, noisy.length === 0 ? 0 : hit / noisy.length)
    t.is(nd.recall, hit / flip.length)
    t.deepEqual(nd.flippedIn, {
      clean: flip.filter((i) => codes[i] === PARTITION_CLEAN).length,
      ambiguous: flip.filter((i) => codes[i] === PARTITION_AMBIGUOUS).length,
      noisy: hit,
    })
  }
})

test.serial('injected noise: the run trains on the noisy labels, lists the flips and scores against them', async (t) => {
  const fake = install()
  const dir = await tempDir(t)
  const index = makeIndex({ train: 20, test: 5 })
  const expected = injectNoise(index.train.labels, index.classNames.length, 0.3, 11)
  t.true(expected.flipped.length > 0)
  const result = await train(tinyConfig(dir, { noise: { rate: 0.3, seed: 11 }, train: { epochs: 2 } }), { dataset: index })
  for (const s of fake.steps) t.deepEqual(s.labels, s.indices.map((i) => expected.labels[i]!))
  const noise = JSON.parse(await fs.readFile(path.join(dir, 'noise.json'), 'utf8'))
  t.deepEqual(noise.flipped, Array.from(expected.flipped))
  t.deepEqual(noise.names, Array.from(expected.flipped, (i) => index.train.paths[i]))
  t.is(noise.rate, 0.3)
  const { codes } = await readPartition(dir, 2)
  const flipped = Array.from(expected.flipped)
  const nd = result.history[1]!.noiseDetection!
  t.truthy(nd)
  t.is(nd.recall, flipped.filter((i) => codes[i] === PARTITION_NOISY).length / flipped.length)
})

test.serial('a validation split is carved from training, never trained on, and selects the best epoch', async (t) => {
  const fake = install()
  const dir = await tempDir(t)
  const index = makeIndex({ train: 20, test: 6 })
  const result = await train(tinyConfig(dir, { ...REFERENCE_LOOP, data: { validationSplit: 0.25 } }), { dataset: index })
  const trained = new Set(fake.steps.flatMap((s) => s.indices))
  t.is(trained.size, 15)
  // Test views of the training dataset: the validation split each epoch, then the training set once at the end (train-final.json).
  const trainViews = fake.calls.filter((c) => c.method === 'predict' && c.dataset === 0 && c.detail?.view === 'test')
  t.is(trainViews.length, 5)
  t.is((trainViews.at(-1)!.detail!.indices as number[]).length, 15)
  const valCalls = trainViews.slice(0, -1)
  const valIndices = valCalls[0]!.detail!.indices as number[]
  t.is(valIndices.length, 5)
  t.true(valIndices.every((i) => !trained.has(i)))
  result.history.forEach((h, i) => {
    const labels = valIndices.map((j) => index.train.labels[j]!)
    t.is(h.validation!.accuracy, accuracyOf(ensembleOf(valCalls[i]!), labels))
  })
  const vals = result.history.map((h) => h.validation!.accuracy)
  t.is(result.best?.selectedBy, 'validation')
  t.is(result.best?.epoch, vals.indexOf(Math.max(...vals)) + 1)
})

test.serial("method 'ce' trains with cross-entropy throughout and writes no partitions", async (t) => {
  const fake = install()
  const dir = await tempDir(t)
  const result = await train(tinyConfig(dir, { method: 'ce', train: { epochs: 3 } }), { dataset: makeIndex({ train: 9, test: 3 }) })
  t.true(fake.steps.every((s) => s.kind === 'warmup'))
  t.true(result.history.every((h) => h.phase === 'ce' && h.partition === null && h.lambda === null))
  t.deepEqual(await fs.readdir(path.join(dir, 'partitions')), ['names.json'])
})

test.serial('refuses to overwrite a run, and to resume with another configuration', async (t) => {
  install()
  const dir = await tempDir(t)
  const index = makeIndex({ train: 8, test: 3 })
  await train(tinyConfig(dir, { train: { epochs: 1 } }), { dataset: index })
  const again = await t.throwsAsync(train(tinyConfig(dir, { train: { epochs: 1 } }), { dataset: index }), { instanceOf: ManError })
  t.is(again?.code, 'ERR_MAN_RUN_DIR')
  const changed = await t.throwsAsync(
    train(tinyConfig(dir, { train: { epochs: 1, lr: 0.01 } }), { dataset: index, resume: dir }),
    { instanceOf: ManError },
  )
  t.is(changed?.code, 'ERR_MAN_RUN_DIR')
  t.regex(changed!.message, /train\.lr/)
})

test.serial('without a dataset path or index, train names the missing option', async (t) => {
  install()
  const dir = await tempDir(t)
  const err = await t.throwsAsync(train({ out: path.join(dir, 'run') }), { instanceOf: ConfigError })
  t.deepEqual(err?.issues, ['Invalid value for option data.path: required (or pass options.dataset)'])
})

test.serial('an already aborted signal rejects before anything is written', async (t) => {
  install()
  const dir = await tempDir(t)
  const reason = new Error('cancelled')
  await t.throwsAsync(train(tinyConfig(path.join(dir, 'run')), { dataset: makeIndex({ train: 8, test: 3 }), signal: AbortSignal.abort(reason) }), { is: reason })
  t.deepEqual(await fs.readdir(dir), [])
})

test.serial('unreadable images fail the run up front, or are dropped with skipBad', async (t) => {
  const failing = (name: string) => name.endsWith('img-0002.png')
  install({ failing })
  const dir = await tempDir(t)
  const index = makeIndex({ train: 10, test: 4 })
  const err = await t.throwsAsync(train(tinyConfig(path.join(dir, 'a')), { dataset: index }), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_DECODE')
  t.regex(err!.message, /2 image\(s\) cannot be read/)

  const fake = install({ failing })
  const result = await train(tinyConfig(path.join(dir, 'b'), { data: { skipBad: true }, train: { epochs: 1, warmup: 1 } }), { dataset: index })
  const trainDs = fake.datasets.at(-2)!
  t.is(trainDs.length, 9)
  t.false(trainDs.names.some(failing))
  t.is(result.history[0]!.test.size, 3)
  const start = (await readJsonLines(path.join(dir, 'b', 'metrics.jsonl')))[0]!
  t.is((start.skipped as string[]).length, 2)
})

test.serial('pretrained weights with a head of another size, or none, load; the run records what was loaded', async (t) => {
  const dir = await tempDir(t)
  const index = makeIndex({ train: 8, test: 3 })
  const counters = resnet18StateDictNames().filter((n) => n.endsWith('.num_batches_tracked'))
  const cases = [
    { name: 'imagenet', file: { headClasses: 1000 }, loaded: 100, skipped: [...counters, 'fc.weight', 'fc.bias'], head: ['fc.bias', 'fc.weight'] },
    { name: 'headless', file: { headClasses: null, counters: false }, loaded: 100, skipped: [], head: ['fc.bias', 'fc.weight'] },
    { name: 'fitting', file: { headClasses: index.classNames.length }, loaded: 102, skipped: counters, head: [] },
  ]
  for (const c of cases) {
    const fake = install({ weightsFile: c.file })
    const out = path.join(dir, c.name)
    const result = await train(tinyConfig(out, { model: { pretrained: 'weights.pth' }, train: { epochs: 1 } }), { dataset: index })
    t.is(fake.calls.filter((call) => call.method === 'loadPretrained').length, 1)
    const expected = { path: path.resolve('weights.pth'), loaded: c.loaded, skipped: c.skipped, headInitialised: c.head }
    t.deepEqual(result.pretrained, expected, c.name)
    const start = (await readJsonLines(path.join(out, 'metrics.jsonl')))[0]!
    t.is(start.event, 'start')
    t.deepEqual(start.pretrained, expected, `${c.name}: metrics.jsonl's start event`)
    const run = JSON.parse(await fs.readFile(path.join(out, 'run.json'), 'utf8')) as { pretrained: unknown }
    t.deepEqual(run.pretrained, expected, `${c.name}: run.json`)
    t.deepEqual((await readCheckpointMeta(checkpointPath(out, 'last'))).pretrained, expected, `${c.name}: checkpoint`)
  }
})

test.serial('a weights file lacking a backbone tensor fails naming it, before the run directory is made', async (t) => {
  const dir = await tempDir(t)
  const index = makeIndex({ train: 8, test: 3 })
  install({ weightsFile: { missing: ['layer1.0.conv1.weight'] } })
  const out = path.join(dir, 'missing')
  const err = await t.throwsAsync(train(tinyConfig(out, { model: { pretrained: 'weights.pth' }, train: { epochs: 1 } }), { dataset: index }), {
    instanceOf: ManError,
  })
  t.is(err?.code, 'ERR_MAN_WEIGHTS')
  t.regex(err!.message, /weights\.pth: .*layer1\.0\.conv1\.weight is missing from the file/)
  await t.throwsAsync(fs.access(out), { code: 'ENOENT' })
})

test.serial('train() refuses a report that leaves a backbone variable at its initialisation', async (t) => {
  const dir = await tempDir(t)
  const index = makeIndex({ train: 8, test: 3 })
  install({ weightsReport: { loaded: ['conv1.weight'], skipped: [], headInitialised: ['fc.bias', 'fc.weight', 'layer4.1.bn2.weight'] } })
  const err = await t.throwsAsync(
    train(tinyConfig(path.join(dir, 'b'), { model: { pretrained: 'weights.pth' }, train: { epochs: 1 } }), { dataset: index }),
    { instanceOf: ManError },
  )
  t.is(err?.code, 'ERR_MAN_WEIGHTS')
  t.regex(err!.message, /lacks 1 backbone tensor\(s\) \(layer4\.1\.bn2\.weight\)/)
})
