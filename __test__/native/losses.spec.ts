/**
 * The public `losses.*` API against docs/method.md's formulas, evaluated here in
 * plain JavaScript (Math.exp / Math.log), never through the addon; and the
 * shape and range errors of the public layer.
 */
import test from 'ava'

import { losses, ManError } from '../../ts/index.ts'

type M = number[][]

/** log Σ exp, shifted by the row maximum so large logits do not overflow. */
function logSumExp(row: number[]): number {
  const m = Math.max(...row)
  return m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0))
}

function logSoftmax(row: number[]): number[] {
  const lse = logSumExp(row)
  return row.map((v) => v - lse)
}

const softmax = (row: number[]) => logSoftmax(row).map(Math.exp)
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length

function crossEntropy(logits: M, labels: number[]): number {
  return mean(logits.map((row, i) => -logSoftmax(row)[labels[i]!]!))
}

/** KL(pred‖target) = mean_i Σ_c q_c (log q_c − log p_c), q = softmax(target), p = softmax(pred). */
function kl(pred: M, target: M): number {
  return mean(
    pred.map((row, i) => {
      const logP = logSoftmax(row)
      const logQ = logSoftmax(target[i]!)
      return logQ.reduce((s, lq, c) => s + Math.exp(lq) * (lq - logP[c]!), 0)
    }),
  )
}

function mutual(a: M, b: M, labels: number[], lambda: number): number {
  const ce = 0.5 * (crossEntropy(a, labels) + crossEntropy(b, labels))
  const sym = 0.5 * (kl(a, b) + kl(b, a))
  return (1 - lambda) * ce + lambda * sym
}

function consistency(weak: M, strong: M): number {
  const sq = weak.flatMap((row, i) => {
    const p = softmax(row)
    const q = softmax(strong[i]!)
    return p.map((v, c) => (v - q[c]!) ** 2)
  })
  return mean(sq)
}

function assertClose(t: { true(v: boolean, m?: string): void }, got: number, expected: number, what: string): void {
  const rel = Math.abs(got - expected) / Math.max(Math.abs(expected), 1e-300)
  t.true(Number.isFinite(got) && (rel <= 1e-12 || Math.abs(got - expected) <= 1e-15), `${what}: ${got} vs ${expected}`)
}

const A: M = [
  [1, 2, 3],
  [0.5, -1, 0],
  [0, 0, 0],
]
const B: M = [
  [3, 2, 1],
  [0, 0, Math.LN2],
  [-2, 4, 0.25],
]
const Y = [2, 0, 1]
// Logits where exp() overflows float64 unless shifted: the addon must stay finite.
const BIG_A: M = [[800, -800, 0, 10]]
const BIG_B: M = [[-750, 760, 5, 0]]

test('crossEntropy: known values and the formula', async (t) => {
  // Uniform logits over 4 classes: −log ¼ whatever the label.
  assertClose(t, await losses.crossEntropy([[0, 0, 0, 0]], [3]), Math.log(4), 'uniform')
  // Row 1 by hand: log(1 + e^-1 + e^-2).
  assertClose(t, await losses.crossEntropy([A[0]!], [2]), Math.log(1 + Math.exp(-1) + Math.exp(-2)), 'row 1')
  assertClose(t, await losses.crossEntropy(A, Y), crossEntropy(A, Y), 'batch')
  assertClose(t, await losses.crossEntropy(BIG_A, [1]), 1600, 'large logits')
})

test('kl: zero on equal inputs, asymmetric, and the formula', async (t) => {
  t.is(await losses.kl(A, A), 0)
  const ab = await losses.kl(A, B)
  const ba = await losses.kl(B, A)
  assertClose(t, ab, kl(A, B), 'KL(A‖B)')
  assertClose(t, ba, kl(B, A), 'KL(B‖A)')
  t.true(Math.abs(ab - ba) > 1e-3, 'KL must not be symmetric on these inputs')
  // Second row of B has softmax (¼, ¼, ½) exactly.
  const q = [0.25, 0.25, 0.5]
  const logP = logSoftmax(A[1]!)
  const byHand = q.reduce((s, qc, c) => s + qc * (Math.log(qc) - logP[c]!), 0)
  assertClose(t, await losses.kl([A[1]!], [B[1]!]), byHand, 'row 2 by hand')
  const big = await losses.kl(BIG_A, BIG_B)
  assertClose(t, big, kl(BIG_A, BIG_B), 'large logits')
})

test('mutual: (1−λ)·½(CE1+CE2) + λ·½(KL12+KL21), at λ = 0, 0.3 and 1', async (t) => {
  for (const lambda of [0, 0.3, 1]) {
    assertClose(t, await losses.mutual(A, B, Y, lambda), mutual(A, B, Y, lambda), `λ = ${lambda}`)
  }
  // λ = 0 leaves plain cross-entropy; λ = 1 only the symmetric KL.
  assertClose(t, await losses.mutual(A, B, Y, 0), 0.5 * (crossEntropy(A, Y) + crossEntropy(B, Y)), 'λ = 0 is CE')
  assertClose(t, await losses.mutual(A, B, Y, 1), 0.5 * (kl(A, B) + kl(B, A)), 'λ = 1 is KL')
  assertClose(t, await losses.mutual(BIG_A, BIG_B, [2], 0.9), mutual(BIG_A, BIG_B, [2], 0.9), 'large logits')
})

test('consistency: mean over samples and classes of squared softmax differences', async (t) => {
  // softmax (½, ½) against (¾, ¼): both classes differ by ¼, so the mean square is 1/16.
  assertClose(t, await losses.consistency([[0, 0]], [[Math.log(3), 0]]), 1 / 16, 'by hand')
  t.is(await losses.consistency(B, B), 0)
  assertClose(t, await losses.consistency(A, B), consistency(A, B), 'batch')
  // Large logits: softmax is one-hot on both sides, in different classes: 2 of 4 entries differ by 1.
  assertClose(t, await losses.consistency(BIG_A, BIG_B), 0.5, 'large logits')
})

// Wrapped in async functions: whether a check throws at once or rejects is not part of the contract.
test('shape errors name the argument and carry ERR_MAN_SHAPE', async (t) => {
  const shape = { instanceOf: ManError, code: 'ERR_MAN_SHAPE' } as const
  await t.throwsAsync(async () => losses.crossEntropy([], []), { ...shape, message: /logits must have at least one row/ })
  await t.throwsAsync(async () => losses.crossEntropy([[1, 2], [3]], [0, 0]), { ...shape, message: /logits\[1\] has 1 columns/ })
  await t.throwsAsync(async () => losses.crossEntropy(A, [0, 1]), { ...shape, message: /labels has 2 entries for 3 rows/ })
  await t.throwsAsync(async () => losses.crossEntropy(A, [0, 3, 1]), { ...shape, message: /labels\[1\] = 3/ })
  await t.throwsAsync(async () => losses.crossEntropy(A, [0, 1.5, 1]), { ...shape, message: /labels\[1\] = 1.5/ })
  await t.throwsAsync(async () => losses.kl(A, [[1, 2, 3]]), { ...shape, message: /pred is 3×3 but target is 1×3/ })
  await t.throwsAsync(async () => losses.mutual(A, B.map((r) => r.slice(1)), Y, 0.5), { ...shape, message: /logits1 is 3×3 but logits2 is 3×2/ })
  await t.throwsAsync(async () => losses.consistency([[1, 2]], [[1, 2, 3]]), { ...shape, message: /weakLogits is 1×2 but strongLogits is 1×3/ })
})

test('mutual refuses λ outside [0, 1] with ERR_MAN_CONFIG', async (t) => {
  for (const lambda of [-0.1, 1.5, Number.NaN]) {
    await t.throwsAsync(async () => losses.mutual(A, B, Y, lambda), { instanceOf: ManError, code: 'ERR_MAN_CONFIG', message: /lambda/ })
  }
})
