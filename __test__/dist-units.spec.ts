/** The pure parts of data-parallel training: shards, wire formats, the launcher's wiring and outcome. */
import { EventEmitter } from 'node:events'

import test from 'ava'

import { jobExitCode, launch, rankEnv } from '../ts/cli/launch.ts'
import { rankDevice } from '../ts/dist/replicas.ts'
import { shardBatch, shardRange } from '../ts/dist/shard.ts'
import { concatPredictions, encodePrediction } from '../ts/dist/wire.ts'

test('shards are contiguous, in rank order, within one of each other, and cover the whole', (t) => {
  for (const [n, w] of [[10, 3], [2, 4], [16, 2], [0, 2], [7, 7]] as const) {
    const ranges = Array.from({ length: w }, (_, r) => shardRange(n, r, w))
    t.is(ranges[0]!.start, 0)
    t.is(ranges.at(-1)!.end, n)
    ranges.slice(1).forEach((r, i) => t.is(r.start, ranges[i]!.end))
    const sizes = ranges.map((r) => r.end - r.start)
    t.true(Math.max(...sizes) - Math.min(...sizes) <= 1, `${n} over ${w}: ${sizes}`)
  }
  const batch = { indices: Uint32Array.of(5, 6, 7, 8, 9), labels: Int32Array.of(0, 1, 0, 1, 2), codes: Uint8Array.of(0, 1, 2, 0, 1), epoch: 3 }
  const one = shardBatch(batch, 1, 2)
  t.deepEqual([Array.from(one.indices), Array.from(one.labels), Array.from(one.codes!), one.epoch], [[7, 8, 9], [0, 1, 2], [2, 0, 1], 3])
  t.is(shardBatch({ ...batch, codes: null }, 0, 2).codes, null)
})

test('predictions survive the wire in rank order, probabilities included', (t) => {
  const a = { pred1: Int32Array.of(1, 2), pred2: Int32Array.of(3, 4), probs: Float32Array.of(0.25, 0.75, 0.5, 0.5) }
  const b = { pred1: Int32Array.of(6), pred2: Int32Array.of(0), probs: Float32Array.of(1, 0) }
  const empty = { pred1: new Int32Array(0), pred2: new Int32Array(0), probs: new Float32Array(0) }
  // Offsets that are not multiples of 4 must not matter.
  const shifted = (bytes: Uint8Array) => new Uint8Array([9, ...bytes]).subarray(1)
  const all = concatPredictions([encodePrediction(a), shifted(encodePrediction(empty)), shifted(encodePrediction(b))], true)
  t.deepEqual(Array.from(all.pred1), [1, 2, 6])
  t.deepEqual(Array.from(all.pred2), [3, 4, 0])
  t.deepEqual(Array.from(all.probs!), [0.25, 0.75, 0.5, 0.5, 1, 0])
  t.is(concatPredictions([encodePrediction({ ...a, probs: null })], false).probs, null)
})

test('a rank takes the GPU of its local rank when the device is auto or cuda', (t) => {
  t.is(rankDevice('auto', 3, true), 'cuda:3')
  t.is(rankDevice('cuda', 1, true), 'cuda:1')
  t.is(rankDevice('auto', 1, false), 'cpu')
  t.is(rankDevice('cuda:0', 2, true), 'cuda:0')
  t.is(rankDevice('cpu', 2, true), 'cpu')
})

test("the launcher's environment is torchrun's, the cores split between the ranks", (t) => {
  const env = rankEnv({ PATH: '/bin' }, 1, 2, 4321, 8)
  t.like(env, { PATH: '/bin', RANK: '1', WORLD_SIZE: '2', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: '4321', OMP_NUM_THREADS: '4' })
  t.is(rankEnv({ OMP_NUM_THREADS: '3' }, 0, 2, 1, 8).OMP_NUM_THREADS, '3')
  t.is(rankEnv({}, 0, 4, 1, 2).OMP_NUM_THREADS, '1')
  t.is(jobExitCode([0, 0]), 0)
  t.is(jobExitCode([1, 137]), 1)
  t.is(jobExitCode([0, 137]), 137)
  t.is(jobExitCode([130, 130]), 130)
})

class FakeChild extends EventEmitter {
  exitCode: number | null = null
  signalCode: NodeJS.Signals | null = null
  readonly signals: string[] = []
  constructor(readonly pid: number) {
    super()
  }
  kill(signal: NodeJS.Signals): boolean {
    this.signals.push(signal)
    return true
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.exitCode = code
    this.signalCode = signal
    this.emit('exit', code, signal)
  }
}

test('the launcher forwards signals, reports a killed rank, and stops the others after the grace period', async (t) => {
  const children: FakeChild[] = []
  const signals = new EventEmitter()
  const logs: string[] = []
  const done = launch(['--data', 'x'], 2, {
    graceMs: 20,
    log: (l) => logs.push(l),
    signals,
    cores: 4,
    spawnChild: (_cmd, args, options) => {
      t.deepEqual(args.slice(-3), ['train', '--data', 'x'])
      t.is(options.env!.WORLD_SIZE, '2')
      const c = new FakeChild(100 + children.length)
      children.push(c)
      return c as never
    },
  })
  await new Promise((r) => setTimeout(r, 30))
  t.is(children.length, 2)
  signals.emit('SIGINT')
  t.deepEqual(children.map((c) => c.signals), [['SIGINT'], ['SIGINT']])
  children[1]!.exit(null, 'SIGKILL')
  await new Promise((r) => setTimeout(r, 60))
  t.deepEqual(children[0]!.signals, ['SIGINT', 'SIGTERM'], 'the survivor is stopped after the grace period')
  children[0]!.exit(1)
  t.is(await done, 1)
  t.true(logs.some((l) => l === 'man-fer: rank 1 (pid 101) was killed by SIGKILL'), logs.join('\n'))
  t.is(signals.listenerCount('SIGINT'), 0)
})
