import test from 'ava'
import { balancedOrder, epochOrder } from '../ts/train/epoch-order.ts'

/** 100 samples: 70 of class 0, 20 of class 1, 7 of class 2, 3 of class 5 (classes 3 and 4 absent). */
const LABELS = Int32Array.from([...new Array(70).fill(0), ...new Array(20).fill(1), ...new Array(7).fill(2), ...new Array(3).fill(5)])

function counts(values: ArrayLike<number>, n: number): number[] {
  const out = new Array(n).fill(0)
  for (let i = 0; i < values.length; i++) out[values[i]!]++
  return out
}

test('balanced: n draws, each class present drawn n/K times, remainder to seeded classes', (t) => {
  const order = balancedOrder(LABELS, 7, 3)
  t.is(order.length, 100)
  const perClass = counts(Array.from(order, (i) => LABELS[i]!), 6)
  t.deepEqual([perClass[3], perClass[4]], [0, 0])
  for (const c of [0, 1, 2, 5]) t.true(perClass[c] === 25, `class ${c}: ${perClass[c]}`)
})

test('balanced: a class is drawn as evenly as its size allows (no repeats while the quota is below it)', (t) => {
  const labels = Int32Array.from([...new Array(50).fill(0), ...new Array(3).fill(1)])
  const order = balancedOrder(labels, 1, 1)
  const perSample = counts(order, labels.length)
  const majority = perSample.slice(0, 50)
  const minority = perSample.slice(50)
  // Quotas: 53 = 26 + 27 in some order.
  t.true(majority.every((k) => k <= 1), 'the large class never repeats')
  t.true(majority.filter((k) => k === 1).length >= 26)
  t.true(minority.every((k) => k === 8 || k === 9), `small class drawn ${minority.join(', ')} times`)
})

test('balanced: a pure function of (seed, epoch), shuffled across classes', (t) => {
  t.deepEqual(balancedOrder(LABELS, 7, 3), balancedOrder(LABELS, 7, 3))
  t.notDeepEqual(balancedOrder(LABELS, 7, 3), balancedOrder(LABELS, 7, 4))
  t.notDeepEqual(balancedOrder(LABELS, 7, 3), balancedOrder(LABELS, 8, 3))
  const first25 = Array.from(balancedOrder(LABELS, 7, 3).subarray(0, 25), (i) => LABELS[i]!)
  t.true(new Set(first25).size > 1, 'not grouped by class')
})

test('epochOrder uses the balanced draw only when given labels; the shuffle stays a permutation', (t) => {
  const plain = epochOrder(100, 32, 7, 3)
  t.deepEqual([...plain.order].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i))
  const balanced = epochOrder(100, 32, 7, 3, LABELS)
  t.deepEqual(balanced.order, balancedOrder(LABELS, 7, 3))
  t.is(balanced.batches, 4)
})
