/**
 * The addon's look-ahead: a step told the next batch builds that batch's
 * views while it trains. The results must be exactly those of steps that
 * build their own views, whether the announced batch is then asked for or not.
 */
import test from 'ava'

import { resolveConfig } from '../../ts/config/index.ts'
import type { BindingDataset, BindingStepResult, BindingTrainer } from '../../ts/native/binding.ts'
import { trainerOptions as optionsFor } from '../../ts/train/trainer-options.ts'
import { getBinding } from '../../ts/native/index.ts'
import { callNative, callNativeSync } from '../../ts/errors.ts'
import { toySet } from '../helpers/toy-images.ts'

const trainerOptions = optionsFor(resolveConfig({ train: { seed: 3 }, runtime: { device: 'cpu' } }), 2)

const N = 12
const BATCH = 4
const batchAt = (k: number) => Uint32Array.from({ length: BATCH }, (_, i) => (k * BATCH + i * 5) % N)
const codes = Uint8Array.of(0, 1, 2, 2)

function open(): { ds: BindingDataset; labels: Int32Array; trainer: BindingTrainer } {
  const b = getBinding()
  const { buffers, names, labels } = toySet(N)
  const ds = callNativeSync(() => b.Dataset.fromBuffers(buffers, names, { imageSize: 32, seed: 5, cacheBytes: 1 << 24, threads: 2 }))
  return { ds, labels, trainer: callNativeSync(() => b.Trainer.create(trainerOptions)) }
}

const W = { lambda: 0.5, omega: 0.6, gamma: 1, detachWeak: false, joint: false, batchShare: false }

/** Warm-up then co-division steps over four batches; `announce(k)` is what step k says comes next. */
async function run(announce: (k: number) => Uint32Array | null): Promise<BindingStepResult[]> {
  const { ds, labels, trainer } = open()
  const out: BindingStepResult[] = []
  for (let k = 0; k < 4; k++) {
    const idx = batchAt(k)
    const y = Int32Array.from(idx, (i) => labels[i]!)
    const next = announce(k)
    out.push(
      k < 2
        ? await callNative(() => trainer.warmupStep(ds, { epoch: 1, indices: idx, labels: y }, next && { indices: next }))
        : await callNative(() =>
            trainer.coDivisionStep(ds, { epoch: 12, indices: idx, labels: y, codes }, W, next && { indices: next, codes }),
          ),
    )
  }
  return out
}

const numbers = (r: BindingStepResult) => [r.loss, r.lossClean, r.lossAmbiguous, r.lossNoisy, r.correct1, r.correct2]

test('steps with the next batch announced give exactly the results of steps without', async (t) => {
  const plain = await run(() => null)
  const ahead = await run((k) => batchAt(k + 1))
  // A wrong announcement (another batch) is built and then discarded, changing nothing.
  const wrong = await run((k) => batchAt(k + 2))
  t.deepEqual(ahead.map(numbers), plain.map(numbers))
  t.deepEqual(wrong.map(numbers), plain.map(numbers))
  t.true(plain.every((r) => Number.isFinite(r.loss) && r.loss > 0))
  for (const r of [...plain, ...ahead]) t.true(r.dataMs >= 0 && r.computeMs > 0, `dataMs ${r.dataMs}, computeMs ${r.computeMs}`)
})

test('an announced batch with indices out of range is ignored, and the dataset counts each image decoded once', async (t) => {
  const { ds, labels, trainer } = open()
  await callNative(() => ds.scan())
  t.is(ds.decodeCount, N)
  const idx = batchAt(0)
  const y = Int32Array.from(idx, (i) => labels[i]!)
  const r = await callNative(() => trainer.warmupStep(ds, { epoch: 1, indices: idx, labels: y }, { indices: Uint32Array.of(0, N + 7) }))
  t.true(Number.isFinite(r.loss))
  t.is(ds.decodeCount, N)
})
