import test from 'ava'

import { ManError } from '../ts/errors.ts'
import { PARTITION_AMBIGUOUS, PARTITION_CLEAN, PARTITION_NOISY } from '../ts/native/binding.ts'
import { coDivide } from '../ts/train/co-division.ts'
import { permutation, Rng } from '../ts/util/prng.ts'

/** The definition of docs/method.md, written the obvious way. */
function naive(p1: number[], p2: number[], y: number[]) {
  const codes = y.map((label, i) => {
    const a = p1[i] === label
    const b = p2[i] === label
    if (a && b) return PARTITION_CLEAN
    if (!a && !b) return PARTITION_NOISY
    return PARTITION_AMBIGUOUS
  })
  return {
    codes,
    clean: codes.filter((c) => c === PARTITION_CLEAN).length,
    ambiguous: codes.filter((c) => c === PARTITION_AMBIGUOUS).length,
    noisy: codes.filter((c) => c === PARTITION_NOISY).length,
  }
}

test('hand cases: agreement with the label decides the subset', (t) => {
  const labels = Int32Array.of(0, 1, 2, 3, 4, 5)
  const pred1 = Int32Array.of(0, 1, 9, 9, 4, 7)
  const pred2 = Int32Array.of(0, 8, 2, 9, 6, 7)
  const got = coDivide(pred1, pred2, labels)
  // 0: both right; 1: only f1; 2: only f2; 3: both wrong and agreeing; 4: only f1; 5: both wrong, agreeing.
  t.deepEqual(Array.from(got.codes), [PARTITION_CLEAN, PARTITION_AMBIGUOUS, PARTITION_AMBIGUOUS, PARTITION_NOISY, PARTITION_AMBIGUOUS, PARTITION_NOISY])
  t.is(got.clean, 1)
  t.is(got.ambiguous, 3)
  t.is(got.noisy, 2)
})

test('codes are the documented 0/1/2', (t) => {
  t.is(PARTITION_CLEAN, 0)
  t.is(PARTITION_AMBIGUOUS, 1)
  t.is(PARTITION_NOISY, 2)
})

test('random cases match the naive definition', (t) => {
  const rng = new Rng(42)
  const next = () => rng.int(2 ** 32)
  for (const n of [0, 1, 2, 17, 1000]) {
    for (const k of [2, 3, 7]) {
      const y = Array.from({ length: n }, () => next() % k)
      const p1 = Array.from({ length: n }, () => next() % k)
      const p2 = Array.from({ length: n }, () => next() % k)
      const got = coDivide(Int32Array.from(p1), Int32Array.from(p2), Int32Array.from(y))
      const want = naive(p1, p2, y)
      t.deepEqual(Array.from(got.codes), want.codes, `n=${n} k=${k}`)
      t.deepEqual([got.clean, got.ambiguous, got.noisy], [want.clean, want.ambiguous, want.noisy])
    }
  }
})

test('writes into a given output buffer and returns it', (t) => {
  const out = new Uint8Array(3).fill(99)
  const got = coDivide(Int32Array.of(1, 0, 0), Int32Array.of(1, 1, 0), Int32Array.of(1, 1, 1), out)
  t.is(got.codes, out)
  t.deepEqual(Array.from(out), [PARTITION_CLEAN, PARTITION_AMBIGUOUS, PARTITION_NOISY])
})

test('a length mismatch is ERR_MAN_SHAPE', (t) => {
  const err = t.throws(() => coDivide(new Int32Array(3), new Int32Array(2), new Int32Array(3)), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_SHAPE')
  const err2 = t.throws(() => coDivide(new Int32Array(3), new Int32Array(3), new Int32Array(3), new Uint8Array(4)), { instanceOf: ManError })
  t.is(err2?.code, 'ERR_MAN_SHAPE')
})

test('a million samples: counts add up and match a naive count', (t) => {
  const n = 1_000_000
  const perm = permutation(n, 5)
  const labels = Int32Array.from(perm, (v) => v % 7)
  const pred1 = Int32Array.from(perm, (v) => (v % 3 === 0 ? v % 7 : (v + 1) % 7))
  const pred2 = Int32Array.from(perm, (v) => (v % 5 === 0 ? v % 7 : (v + 2) % 7))
  const got = coDivide(pred1, pred2, labels)
  t.is(got.clean + got.ambiguous + got.noisy, n)
  // Independently: clean where v is a multiple of 15, ambiguous where of exactly one of 3 and 5.
  let clean = 0
  let ambiguous = 0
  for (let v = 0; v < n; v++) {
    const a = v % 3 === 0
    const b = v % 5 === 0
    if (a && b) clean++
    else if (a || b) ambiguous++
  }
  t.is(got.clean, clean)
  t.is(got.ambiguous, ambiguous)
  t.is(got.noisy, n - clean - ambiguous)
})
