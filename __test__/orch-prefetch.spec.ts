/**
 * The training loop announces each step's successor, so the addon can build
 * its views while the step trains; the announcement must be exactly the batch
 * that follows (same samples, same codes), and none after an epoch's last batch.
 */
import test from 'ava'

import { setBinding } from '../ts/native/index.ts'
import { train } from '../ts/train/train.ts'
import { FakeBinding } from './fake-binding.ts'
import { classOfName, makeIndex, tempDir, tinyConfig } from './helpers/orch.ts'

test.afterEach.always(() => setBinding(undefined))

test.serial('every step announces the next batch of its epoch, codes included; the last announces none', async (t) => {
  const fake = new FakeBinding({ classOf: classOfName })
  setBinding(fake)
  const dir = await tempDir(t)
  await train(tinyConfig(dir), { dataset: makeIndex({ train: 22, test: 9 }) })

  for (let epoch = 1; epoch <= 4; epoch++) {
    const steps = fake.steps.filter((s) => s.epoch === epoch)
    t.is(steps.length, 6)
    steps.forEach((s, b) => {
      const following = steps[b + 1]
      if (following === undefined) {
        t.is(s.next, null, `epoch ${epoch}: the last batch announces nothing`)
        return
      }
      t.deepEqual(s.next, { indices: following.indices, codes: following.codes }, `epoch ${epoch}, batch ${b + 1}`)
    })
  }
  // Warm-up announces no codes; co-division epochs announce some.
  t.is(fake.steps.find((s) => s.epoch === 1)!.next!.codes, null)
  t.not(fake.steps.find((s) => s.epoch === 2)!.next!.codes, null)
})

test.serial("epoch timings add up the steps' data and compute times", async (t) => {
  const fake = new FakeBinding({ classOf: classOfName })
  setBinding(fake)
  const dir = await tempDir(t)
  const result = await train(tinyConfig(dir, { train: { epochs: 2 } }), { dataset: makeIndex({ train: 10, test: 4 }) })
  t.is(result.history.length, 2)
  for (const h of result.history) {
    // The fake reports ¼ ms of data and 1 ms of compute per sample.
    t.is(h.timings.dataMs, 0.25 * h.samples)
    t.is(h.timings.computeMs, h.samples)
    t.true(h.timings.totalMs >= h.timings.trainMs)
  }
})
