import test from 'ava'

import { batchPositions, epochOrder } from '../ts/train/epoch-order.ts'
import { mixSeed, permutation } from '../ts/util/prng.ts'
import { isWarmup, lambdaAt, lrAt } from '../ts/train/schedule.ts'

const EPOCHS = [1, 11, 50, 90, 100]

test('lambdaAt follows λmax·exp(−β(1 − e/er)²) with er = 0.9·epochs', (t) => {
  for (const e of EPOCHS) {
    // Computed independently: er = 90 for a 100-epoch run.
    const gap = (90 - e) / 90
    const expected = 0.9 / Math.exp(0.65 * gap * gap)
    t.true(Math.abs(lambdaAt(e, 100) - expected) < 1e-12, `epoch ${e}: ${lambdaAt(e, 100)} vs ${expected}`)
  }
  t.true(Math.abs(lambdaAt(90, 100) - 0.9) < 1e-12, 'λ peaks at er')
  t.true(lambdaAt(100, 100) < 0.9, 'and falls after it')
})

test('lambdaAt honours its options', (t) => {
  const got = lambdaAt(5, 20, { lambdaMax: 0.5, beta: 2, rampFraction: 0.5 })
  const er = 10
  t.true(Math.abs(got - 0.5 * Math.exp(-2 * (1 - 5 / er) ** 2)) < 1e-12)
})

test('lrAt decays by 0.9 per epoch from 1e-3', (t) => {
  for (const e of EPOCHS) {
    let expected = 1e-3
    for (let i = 1; i < e; i++) expected *= 0.9
    t.true(Math.abs(lrAt(e) / expected - 1) < 1e-9, `epoch ${e}: ${lrAt(e)} vs ${expected}`)
  }
  t.is(lrAt(3, { lr: 0.1, decay: 0.5 }), 0.1 * 0.25)
})

test('isWarmup covers epochs 1..warmup', (t) => {
  t.true(isWarmup(1, 10))
  t.true(isWarmup(10, 10))
  t.false(isWarmup(11, 10))
  t.false(isWarmup(1, 0))
})

test('permutation is a seeded permutation', (t) => {
  const a = permutation(1000, mixSeed(7, 1, 3))
  const b = permutation(1000, mixSeed(7, 1, 3))
  const c = permutation(1000, mixSeed(7, 1, 4))
  t.deepEqual(a, b)
  t.notDeepEqual(a, c)
  t.deepEqual(Array.from(a).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i))
  // Not the identity, and positions spread (a broken shuffle leaves most in place).
  let fixed = 0
  for (let i = 0; i < a.length; i++) if (a[i] === i) fixed++
  t.true(fixed < 20, `${fixed} fixed points`)
})

test('epochOrder keeps a partial last batch but drops a single-sample one', (t) => {
  const ten = epochOrder(10, 4, 1, 1)
  t.is(ten.batches, 3)
  t.deepEqual([0, 1, 2].map((b) => batchPositions(ten, b).length), [4, 4, 2])
  const nine = epochOrder(9, 4, 1, 1)
  t.is(nine.batches, 2)
  const eight = epochOrder(8, 4, 1, 1)
  t.is(eight.batches, 2)
})
