/**
 * Data-parallel orchestration against the fake binding: two ranks in one
 * process (see helpers/fake-world.ts), checked against one process.
 */
import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'

import test from 'ava'

import { ManError } from '../ts/errors.ts'
import { setBinding } from '../ts/native/index.ts'
import { readCheckpointMeta } from '../ts/train/checkpoint.ts'
import { checkpointPath } from '../ts/train/run-dir.ts'
import { acquireRunLock, LOCK_FILE } from '../ts/train/run-lock.ts'
import { resumeTrain, train } from '../ts/train/train.ts'
import type { TrainResult } from '../ts/train/types.ts'
import { FakeBinding } from './fake-binding.ts'
import { FakeWorldBinding } from './helpers/fake-world.ts'
import { classOfName, makeIndex, readJsonLines, tempDir, tinyConfig, withoutTimings } from './helpers/orch.ts'

test.afterEach.always(() => setBinding(undefined))

const index = () => makeIndex({ train: 22, test: 9, flip: [1, 4, 9] })
const config = (dir: string) => tinyConfig(dir, { train: { epochs: 3, warmup: 1, batchSize: 6 } })

function world(): FakeWorldBinding {
  const fake = new FakeWorldBinding(2, { classOf: classOfName })
  setBinding(fake)
  return fake
}

function fulfilled<T>(results: Array<PromiseSettledResult<T>>): T[] {
  return results.map((r) => {
    if (r.status === 'rejected') throw r.reason
    return r.value
  })
}

/** Trainer id → rank, from each rank's joinDataParallel. */
function ranksOf(fake: FakeBinding): Map<number, number> {
  return new Map(fake.calls.filter((c) => c.method === 'joinDataParallel').map((c) => [c.trainer!, c.detail!.rank as number]))
}

test.serial('two ranks train complementary shards of every batch of one process, agree on everything, and rank 0 alone writes', async (t) => {
  const single = new FakeBinding({ classOf: classOfName })
  setBinding(single)
  await train(config(await tempDir(t)), { dataset: index() })

  const fake = world()
  const dir = await tempDir(t)
  const [r0, r1] = fulfilled(await fake.runRanks(() => train(config(dir), { dataset: index(), distributed: true })))
  t.deepEqual(withoutTimings(r0!.history), withoutTimings(r1!.history), 'the same summaries on every rank')
  t.deepEqual([r0!.distributed, r1!.distributed], [{ rank: 0, worldSize: 2 }, { rank: 1, worldSize: 2 }])

  const rank = ranksOf(fake)
  t.is(rank.size, 2)
  const stepsOf = (r: number) => fake.steps.filter((s) => rank.get(s.trainer) === r)
  const [s0, s1] = [stepsOf(0), stepsOf(1)]
  t.is(s0.length, single.steps.length)
  t.is(s1.length, single.steps.length)
  single.steps.forEach((whole, k) => {
    t.deepEqual([...s0[k]!.indices, ...s1[k]!.indices], whole.indices, `step ${k}: rank 0's shard, then rank 1's`)
    t.deepEqual([...s0[k]!.labels, ...s1[k]!.labels], whole.labels)
    t.is(s0[k]!.indices.length, whole.indices.length / 2)
    // The partition every rank trains with is the same; its codes follow the samples.
    if (whole.codes !== null) t.is(s0[k]!.codes!.length + s1[k]!.codes!.length, whole.codes.length)
  })

  const saves = fake.calls.filter((c) => c.method === 'save')
  t.true(saves.length > 0)
  t.true(saves.every((c) => rank.get(c.trainer!) === 0), 'only rank 0 saves')
  // Each rank predicted its half of every prediction pass.
  const predicted = (r: number) => fake.calls.filter((c) => c.method === 'predict' && rank.get(c.trainer!) === r)
  t.is(predicted(0).length, predicted(1).length)
  const events = await readJsonLines(`${dir}/metrics.jsonl`)
  t.is(events.filter((e) => e.event === 'epoch').length, 3, 'one line per epoch, not one per rank')
  t.like(events[0], { event: 'start', distributed: { worldSize: 2, backend: 'fake' } })
  t.is((await readCheckpointMeta(checkpointPath(dir, 'last'))).worldSize, 2)
})

test.serial("one rank's stop stops every rank at the same batch", async (t) => {
  const fake = world()
  const dir = await tempDir(t)
  const results = fulfilled(
    await fake.runRanks((rank) =>
      train(config(dir), {
        dataset: index(),
        distributed: true,
        onBatch: (info) => (rank === 1 && info.epoch === 2 && info.batch === 2 ? 'stop' : undefined),
      }),
    ),
  )
  t.true(results.every((r: TrainResult) => r.stopped))
  const rank = ranksOf(fake)
  const count = (r: number) => fake.steps.filter((s) => rank.get(s.trainer) === r).length
  t.is(count(0), count(1))
  const stops = (await readJsonLines(`${dir}/metrics.jsonl`)).filter((e) => e.event === 'stop')
  t.deepEqual(stops.map((e) => [e.epoch, e.batch]), [[2, 2]])
})

test.serial("rank 0's refusal reaches every rank", async (t) => {
  const fake = world()
  const dir = await tempDir(t)
  const results = await fake.runRanks(() => train(config(dir), { dataset: index(), distributed: true, resume: dir }))
  t.true(results.every((r) => r.status === 'rejected'))
  const [e0, e1] = results.map((r) => (r as PromiseRejectedResult).reason as ManError)
  t.is(e0!.code, 'ERR_MAN_RUN_DIR')
  t.is(e1!.code, 'ERR_MAN_RUN_DIR')
  t.true(e1!.message.startsWith('rank 0: '), e1!.message)
})

test.serial('a data-parallel run resumes with as many ranks, and says so to one process', async (t) => {
  const fake = world()
  const dir = await tempDir(t)
  fulfilled(await fake.runRanks(() => train(tinyConfig(dir, { train: { epochs: 1, warmup: 1, batchSize: 6 } }), { dataset: index(), distributed: true })))

  setBinding(new FakeBinding({ classOf: classOfName }))
  const alone = await t.throwsAsync(resumeTrain(dir, { dataset: index() }))
  t.is((alone as ManError).code, 'ERR_MAN_RUN_DIR')
  t.regex(alone!.message, /trained by 2 processes and this run has 1 process.*--nproc 2/)

  const again = world()
  const [r0] = fulfilled(await again.runRanks(() => resumeTrain(dir, { dataset: index(), distributed: true })))
  t.is(r0!.epochsCompleted, 1)
})

test.serial("rank 0 alone holds the run's lock, and a held lock refuses every rank untouched", async (t) => {
  const fake = world()
  const dir = await tempDir(t)
  const lockSeen: boolean[] = []
  const results = fulfilled(
    await fake.runRanks((rank) =>
      train(config(dir), {
        dataset: index(),
        distributed: true,
        onBatch: () => {
          if (rank === 1) lockSeen.push(existsSync(path.join(dir, LOCK_FILE)))
        },
      }),
    ),
  )
  t.true(lockSeen.length > 0 && lockSeen.every(Boolean), 'the lock is held while the ranks train')
  t.false(existsSync(path.join(dir, LOCK_FILE)), 'and released when they end')
  // The final predictions are shared by the ranks and written once; rank 0 alone makes the report.
  t.true(existsSync(path.join(dir, 'predictions', 'train-final.json')))
  t.true(results[0]!.report !== null && 'file' in results[0]!.report)
  t.is(results[1]!.report, null)

  const other = await tempDir(t)
  const held = await acquireRunLock(other, 'train')
  const refused = await fake.runRanks(() => train(config(other), { dataset: index(), distributed: true }))
  const [e0, e1] = refused.map((r) => (r.status === 'rejected' ? (r.reason as ManError) : null))
  t.is(e0?.code, 'ERR_MAN_LOCKED')
  t.is(e1?.code, 'ERR_MAN_LOCKED')
  t.regex(e1!.message, /^rank 0: /)
  t.deepEqual(await fs.readdir(other), [LOCK_FILE], 'nothing written beside the lock')
  await held.release()
})

test.serial('a data-parallel start that fails on rank 0 is undone, so the corrected command runs there', async (t) => {
  const fake = new FakeWorldBinding(2, { classOf: classOfName, weightsFile: { missing: ['layer1.0.conv1.weight'] } })
  setBinding(fake)
  const dir = path.join(await tempDir(t), 'run')
  const failed = await fake.runRanks(() =>
    train(tinyConfig(dir, { model: { pretrained: '/weights/bad.pth' } }), { dataset: index(), distributed: true }),
  )
  t.deepEqual(
    failed.map((r) => (r.status === 'rejected' ? (r.reason as ManError).code : 'fulfilled')),
    ['ERR_MAN_WEIGHTS', 'ERR_MAN_WEIGHTS'],
  )
  t.false(existsSync(dir), 'the directory this start created is gone again')

  const again = world()
  const [r0] = fulfilled(await again.runRanks(() => train(config(dir), { dataset: index(), distributed: true })))
  t.is(r0!.epochsCompleted, 3)
})

test.serial('train() refuses a malformed distributed option with ERR_MAN_ARGUMENT', async (t) => {
  world()
  for (const [distributed, message] of [
    ['yes', /options\.distributed must be a boolean or/],
    [{ timeoutMs: 0 }, /options\.distributed\.timeoutMs must be a number above 0, got the number 0/],
    [{ bucketMb: Number.NaN }, /options\.distributed\.bucketMb must be a number above 0, got NaN/],
    [{ nccl: 'yes' }, /options\.distributed\.nccl must be true, false or 'auto'/],
  ] as const) {
    const err = await t.throwsAsync(train({}, { distributed } as never), { instanceOf: ManError })
    t.is(err!.code, 'ERR_MAN_ARGUMENT')
    t.regex(err!.message, message)
  }
})

test.serial('resumed inside a co-division epoch, the ranks train on the partition and relabels rank 0 reads back', async (t) => {
  const relabelling = (dir: string) =>
    tinyConfig(dir, { train: { epochs: 3, warmup: 1, warmupEnd: 'fixed', batchSize: 6 }, man: { relabel: 'agreed' } })
  /**
   * Each rank's steps of epoch 2 from batch `batch` on, without the trainer
   * ids. (Later epochs are left out: the fake's joinDataParallel does not
   * hand rank 0's weights to rank 1, so rank 1's predictions after a resume
   * are not the uninterrupted run's; epoch 2's steps depend only on the
   * partition and relabels read back.)
   */
  const epoch2From = (fake: FakeWorldBinding, batch: number) => {
    const rank = ranksOf(fake)
    return [0, 1].map((r) =>
      fake.steps
        .filter((s) => rank.get(s.trainer) === r && s.epoch === 2)
        .slice(batch - 1)
        .map(({ trainer: _, ...s }) => s),
    )
  }
  const whole = world()
  const wholeDir = await tempDir(t)
  fulfilled(await whole.runRanks(() => train(relabelling(wholeDir), { dataset: index(), distributed: true })))

  const first = world()
  const dir = await tempDir(t)
  const stopped = fulfilled(
    await first.runRanks(() =>
      train(relabelling(dir), { dataset: index(), distributed: true, onBatch: (info) => (info.epoch === 2 && info.batch === 2 ? 'stop' : undefined) }),
    ),
  )
  t.true(stopped.every((r) => r.stopped))
  const partition = JSON.parse(await fs.readFile(path.join(dir, 'partitions', 'epoch-002.json'), 'utf8')) as { relabels?: string }
  t.is(typeof partition.relabels, 'string', 'the partition stores its relabels')

  const again = world()
  fulfilled(await again.runRanks(() => resumeTrain(dir, { dataset: index(), distributed: true })))
  const resumed = epoch2From(again, 1)
  t.true(resumed[0]!.length > 0)
  t.deepEqual(resumed, epoch2From(whole, 3), 'the same steps as the run that was not stopped')
})
