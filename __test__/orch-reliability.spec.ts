/**
 * train() when things go wrong, against the fake binding: a non-finite loss,
 * a failed start, a directory holding a run, a damaged checkpoint, a
 * half-made directory, leftovers of interrupted writes, a second writer.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'

import test from 'ava'

import { ManError } from '../ts/errors.ts'
import type { BindingTrainer } from '../ts/native/binding.ts'
import { setBinding } from '../ts/native/index.ts'
import { readCheckpointMeta } from '../ts/train/checkpoint.ts'
import { checkpointPath } from '../ts/train/run-dir.ts'
import { acquireRunLock } from '../ts/train/run-lock.ts'
import { loadModel } from '../ts/model.ts'
import { resumeTrain, train } from '../ts/train/train.ts'
import { FakeBinding } from './fake-binding.ts'
import { readTree } from './helpers/cli.ts'
import { classOfName, makeIndex, readJsonLines, tempDir, tinyConfig, withoutTimings } from './helpers/orch.ts'

test.afterEach.always(() => setBinding(undefined))

function install(options: ConstructorParameters<typeof FakeBinding>[0] = {}): FakeBinding {
  const fake = new FakeBinding({ classOf: classOfName, ...options })
  setBinding(fake)
  return fake
}

/** Makes the `n`-th training step of every trainer report `loss`. */
function lossAtStep(fake: FakeBinding, n: number, loss: number): void {
  const create = fake.Trainer.create
  fake.Trainer.create = (options) => {
    const trainer = create(options) as BindingTrainer & Record<string, unknown>
    let steps = 0
    for (const method of ['warmupStep', 'coDivisionStep'] as const) {
      const step = trainer[method].bind(trainer) as unknown as (...args: unknown[]) => Promise<Record<string, unknown>>
      trainer[method] = (async (...args: unknown[]) => {
        const result = await step(...args)
        return ++steps === n ? { ...result, loss } : result
      }) as never
    }
    return trainer
  }
}

const index = () => makeIndex({ train: 22, test: 9 })

test.serial('a NaN loss stops the run with ERR_MAN_DIVERGED naming epoch and batch; last keeps the state before it', async (t) => {
  const fake = install()
  lossAtStep(fake, 9, NaN)
  const dir = await tempDir(t)
  // 22 samples in batches of 4: 6 batches an epoch, so step 9 is epoch 2, batch 3.
  const err = await t.throwsAsync(train(tinyConfig(dir), { dataset: index() }), { instanceOf: ManError })
  t.is(err!.code, 'ERR_MAN_DIVERGED')
  t.regex(err!.message, /^training diverged: the loss is NaN at epoch 2, batch 3 \(lr 0\.0009\); .*last\.safetensors keeps the last good state \(epoch 2, batch 1\); lower train\.lr/)
  const meta = await readCheckpointMeta(checkpointPath(dir, 'last'))
  t.like(meta, { epoch: 2, nextBatch: 0 })
  const events = await readJsonLines(path.join(dir, 'metrics.jsonl'))
  t.like(events.at(-1), { event: 'diverged', epoch: 2, batch: 3, loss: 'NaN' })
  t.deepEqual(
    fake.calls.filter((c) => c.method === 'save').length,
    2,
    'the start and the end of epoch 1; nothing after the divergence',
  )
  t.false((await fs.readdir(dir)).includes('run.lock'), 'the lock is released')
})

test.serial('an infinite loss in the first epoch keeps the starting checkpoint', async (t) => {
  const fake = install()
  lossAtStep(fake, 1, Infinity)
  const dir = await tempDir(t)
  const err = await t.throwsAsync(train(tinyConfig(dir), { dataset: index() }), { instanceOf: ManError })
  t.regex(err!.message, /the loss is Infinity at epoch 1, batch 1 .*\(epoch 1, batch 1\)/)
  t.deepEqual((await fs.readdir(path.join(dir, 'checkpoints'))).sort(), ['last.safetensors'])
})

test.serial('a start that fails on its weights leaves the directory so that the corrected call runs there', async (t) => {
  install({ weightsFile: { missing: ['layer1.0.conv1.weight'] } })
  const dir = await tempDir(t)
  await fs.writeFile(path.join(dir, 'notes.txt'), 'mine')
  const err = await t.throwsAsync(train(tinyConfig(dir, { model: { pretrained: '/weights/bad.pth' } }), { dataset: index() }), {
    instanceOf: ManError,
  })
  t.is(err!.code, 'ERR_MAN_WEIGHTS')
  t.regex(err!.message, /bad\.pth: pretrained weights do not fit the backbone \(1 problems\): layer1\.0\.conv1\.weight is missing from the file/)
  t.deepEqual(await fs.readdir(dir), ['notes.txt'], 'only what was there before')

  install()
  const result = await train(tinyConfig(dir), { dataset: index() })
  t.is(result.epochsCompleted, 4)
})

test.serial('a new run in a directory that holds one is refused and the directory left byte for byte', async (t) => {
  install()
  const dir = await tempDir(t)
  await train(tinyConfig(dir, { train: { epochs: 1 } }), { dataset: index() })
  const before = await readTree(dir)
  const err = await t.throwsAsync(train(tinyConfig(dir), { dataset: index() }), { instanceOf: ManError })
  t.is(err!.code, 'ERR_MAN_RUN_DIR')
  t.regex(err!.message, /already holds a run: resume it/)
  t.deepEqual(await readTree(dir), before)
})

test.serial('best and last are separate files, so damage to last leaves best; resume falls back to it and says so', async (t) => {
  install()
  const dir = await tempDir(t)
  const straight = await train(tinyConfig(path.join(dir, 'straight')), { dataset: index() })
  const first = await train(tinyConfig(path.join(dir, 'run'), { train: { epochs: 4 } }), {
    dataset: index(),
    onEpoch: (e) => (e.epoch === 2 ? 'stop' : undefined),
  })
  t.true(first.stopped)
  const runDir = path.join(dir, 'run')
  const [last, best] = [checkpointPath(runDir, 'last'), checkpointPath(runDir, 'best')]
  t.not((await fs.stat(last)).ino, (await fs.stat(best)).ino, 'no shared storage')
  const bestMeta = await readCheckpointMeta(best)
  await fs.truncate(last, 20)

  const warnings: string[] = []
  const resumed = await resumeTrain(runDir, { dataset: index(), onWarning: (m) => warnings.push(m) })
  t.is(warnings.length, 1)
  t.regex(warnings[0]!, new RegExp(`^checkpoints/last\\.safetensors is unusable \\(.*\\): resuming from checkpoints/best\\.safetensors \\(epoch ${bestMeta.epoch}, batch 1\\)`))
  t.is(resumed.epochsCompleted, 4)
  if (bestMeta.epoch === 3) t.deepEqual(withoutTimings(resumed.history), withoutTimings(straight.history), 'fell back to the newest state')
  const events = await readJsonLines(path.join(runDir, 'metrics.jsonl'))
  t.true(events.some((e) => e.event === 'warning' && String(e.message).startsWith('checkpoints/last')))
  t.deepEqual(events.filter((e) => e.event === 'epoch').map((e) => e.epoch), [1, 2, 3, 4], 'each epoch once')
})

test.serial('no intact checkpoint: resume fails naming each file and why', async (t) => {
  install()
  const dir = await tempDir(t)
  await train(tinyConfig(dir, { train: { epochs: 1 } }), { dataset: index() })
  await fs.writeFile(checkpointPath(dir, 'last'), 'garbage')
  await fs.truncate(checkpointPath(dir, 'best'), 3)
  const err = await t.throwsAsync(resumeTrain(dir, { dataset: index() }), { instanceOf: ManError })
  t.is(err!.code, 'ERR_MAN_RUN_DIR')
  t.regex(err!.message, /no intact checkpoint \(last: .*; best: .*too short to be a safetensors file\)/)
})

test.serial('resuming a half-made directory starts it again; temp files of interrupted writes are removed, with a warning', async (t) => {
  install()
  const dir = await tempDir(t)
  const config = tinyConfig(dir)
  await fs.mkdir(path.join(dir, 'checkpoints'))
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(config))
  await fs.writeFile(path.join(dir, 'checkpoints', '.last.safetensors.tmp-99999'), 'half')
  const warnings: string[] = []
  const result = await resumeTrain(dir, { dataset: index(), onWarning: (m) => warnings.push(m) })
  t.is(result.epochsCompleted, 4)
  t.is(warnings.length, 2, warnings.join('\n'))
  t.regex(warnings[0]!, /removed what an interrupted start or write had left in .*: checkpoints\/\.last\.safetensors\.tmp-99999/)
  t.regex(warnings[1]!, /never reached its first checkpoint: starting it again/)
  t.deepEqual((await fs.readdir(path.join(dir, 'checkpoints'))).sort(), ['best.safetensors', 'last.safetensors'])
})

test.serial('a second writer is refused while the first holds the directory', async (t) => {
  install()
  const dir = await tempDir(t)
  const held = await acquireRunLock(dir, 'train')
  const err = await t.throwsAsync(train(tinyConfig(dir), { dataset: index() }), { instanceOf: ManError })
  t.is(err!.code, 'ERR_MAN_LOCKED')
  t.regex(err!.message, new RegExp(`in use by process ${process.pid} \\(train, since`))
  t.deepEqual(await fs.readdir(dir), ['run.lock'])
  await held.release()
})

test.serial('train() refuses malformed options with ERR_MAN_ARGUMENT', async (t) => {
  install()
  for (const [options, message] of [
    [null, /options must be an object, got null/],
    [{ onBatch: 3 }, /options\.onBatch must be a function, got the number 3/],
    [{ dataset: { train: [] } }, /options\.dataset must be a DatasetIndex/],
    [{ resume: '' }, /options\.resume must be a run directory path/],
  ] as const) {
    const err = await t.throwsAsync(train({}, options as never), { instanceOf: ManError })
    t.is(err!.code, 'ERR_MAN_ARGUMENT')
    t.regex(err!.message, message)
  }
})

test.serial('loadModel takes last when best is damaged, and names both when neither is whole', async (t) => {
  install()
  const dir = await tempDir(t)
  await train(tinyConfig(dir, { train: { epochs: 1 } }), { dataset: index() })
  await fs.truncate(checkpointPath(dir, 'best'), 10)
  const model = await loadModel(dir)
  t.is(model.checkpoint, checkpointPath(dir, 'last'))
  await fs.writeFile(checkpointPath(dir, 'last'), Buffer.alloc(8))
  const err = await t.throwsAsync(loadModel(dir), { instanceOf: ManError })
  t.is(err!.code, 'ERR_MAN_RUN_DIR')
  t.regex(err!.message, /holds no intact checkpoint: .*best\.safetensors: .*; .*last\.safetensors: /)
})
