/**
 * The real addon's loss functions on hand-computed cases, and its error
 * contract: codes on bad arguments, and a panic that does not kill Node.
 */
import test from 'ava'

import { getBinding } from '../../ts/native/index.ts'
import { callNative, ManError } from '../../ts/errors.ts'

const L1 = new Float64Array([1, 2, 3, 1, 1, 1])
// Second row: softmax = (1/4, 1/4, 1/2).
const L2 = new Float64Array([3, 2, 1, 0, 0, Math.LN2])
const Y = new Int32Array([2, 0])

const close = (actual: number, expected: number) => Math.abs(actual - expected) < 1e-12

test('cross-entropy: log(1 + e^-1 + e^-2) and log 3, averaged', async (t) => {
  const expected = (Math.log(1 + Math.exp(-1) + Math.exp(-2)) + Math.log(3)) / 2
  const got = await callNative(() => getBinding().lossCrossEntropy(L1, 2, 3, Y))
  t.true(close(got, expected), `${got} vs ${expected}`)
})

test('KL(pred‖target) by hand, and KL(a‖a) = 0', async (t) => {
  const z = 1 + Math.E + Math.exp(2)
  const q0 = Math.exp(2) / z
  const q2 = 1 / z
  const row1 = (q0 - q2) * (Math.log(q0) - Math.log(q2))
  const row2 = Math.log(3) + 0.5 * Math.log(0.25) + 0.5 * Math.log(0.5)
  const got = await callNative(() => getBinding().lossKl(L1, L2, 2, 3))
  t.true(close(got, (row1 + row2) / 2), `${got}`)
  t.true(close(await getBinding().lossKl(L2, L2, 2, 3), 0))
})

test('mutual = (1−λ)·mean CE + λ·mean KL, symmetric in the two networks', async (t) => {
  const b = getBinding()
  const lambda = 0.3
  const ce = ((await b.lossCrossEntropy(L1, 2, 3, Y)) + (await b.lossCrossEntropy(L2, 2, 3, Y))) / 2
  const kl = ((await b.lossKl(L1, L2, 2, 3)) + (await b.lossKl(L2, L1, 2, 3))) / 2
  const m12 = await b.lossMutual(L1, L2, 2, 3, Y, lambda)
  const m21 = await b.lossMutual(L2, L1, 2, 3, Y, lambda)
  t.true(close(m12, (1 - lambda) * ce + lambda * kl), `${m12}`)
  t.true(close(m12, m21))
})

test('consistency: softmax (½,½) vs (¾,¼) gives 1/16; equal inputs give 0', async (t) => {
  const b = getBinding()
  t.true(close(await b.lossConsistency(new Float64Array([0, 0]), new Float64Array([Math.log(3), 0]), 1, 2), 0.0625))
  t.true(close(await b.lossConsistency(L1, L1, 2, 3), 0))
})

test('a label out of range is ERR_MAN_SHAPE naming the argument', async (t) => {
  const err = await t.throwsAsync(
    callNative(() => getBinding().lossCrossEntropy(L1, 2, 3, new Int32Array([2, 3]))),
    { instanceOf: ManError },
  )
  t.is(err?.code, 'ERR_MAN_SHAPE')
  t.regex(err!.message, /labels\[1\] = 3/)
  const bad = await t.throwsAsync(callNative(() => getBinding().lossKl(L1, L2, -2, 3)), { instanceOf: ManError })
  t.is(bad?.code, 'ERR_MAN_CONFIG')
  t.regex(bad!.message, /rows/)
})

test('a panic inside a task rejects with ERR_MAN_PANIC and the addon keeps working', async (t) => {
  const err = await t.throwsAsync(callNative(() => getBinding().debugPanic()), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_PANIC')
  t.true(close(await getBinding().lossKl(L1, L1, 2, 3), 0))
})
