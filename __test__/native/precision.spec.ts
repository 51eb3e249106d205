/**
 * The real addon's precision choice and bf16 autocast on the CPU: runtimeInfo
 * reports the CPU's bf16 flags and what 'auto' resolves to; forced bf16 and
 * both backward modes train with finite losses.
 */
import test from 'ava'

import { resolveConfig } from '../../ts/config/index.ts'
import { callNative, callNativeSync, ManError } from '../../ts/errors.ts'
import { getBinding } from '../../ts/native/index.ts'
import { trainerOptions } from '../../ts/train/trainer-options.ts'
import { toySet } from '../helpers/toy-images.ts'

function create(precision: string, backward = 'per-network') {
  const options = trainerOptions(resolveConfig({ train: { seed: 3 }, runtime: { device: 'cpu' } }), 2)
  return callNativeSync(() => getBinding().Trainer.create({ ...options, precision, backward }))
}

test('auto takes bf16 on the CPU exactly when it has AMX or AVX-512-BF16', (t) => {
  const info = getBinding().runtimeInfo()
  const native = info.cpuAmxBf16 || info.cpuAvx512Bf16
  t.log(`CPU: AMX-BF16 ${info.cpuAmxBf16}, AVX-512-BF16 ${info.cpuAvx512Bf16}: auto -> ${info.cpuAutoPrecision}`)
  t.is(info.cpuAutoPrecision, native ? 'bf16' : 'fp32')
})

test('an unknown precision, backward or allocator is a configuration error', (t) => {
  const e = t.throws(() => create('fp16'), { instanceOf: ManError })
  t.is(e?.code, 'ERR_MAN_CONFIG')
  t.regex(e!.message, /'auto', 'fp32' or 'bf16'/)
  const b = t.throws(() => create('fp32', 'twice'), { instanceOf: ManError })
  t.regex(b!.message, /'per-network' or 'once'/)
  const options = trainerOptions(resolveConfig({ runtime: { device: 'cpu' } }), 2)
  const a = t.throws(() => callNativeSync(() => getBinding().Trainer.create({ ...options, allocator: 'huge' })), { instanceOf: ManError })
  t.is(a?.code, 'ERR_MAN_CONFIG')
  t.regex(a!.message, /'lean' or 'fast'/)
})

// Without native bf16 (as on the development machine) libtorch emulates it, slower than fp32: few, small steps.
test('bf16 and both backward modes train: finite losses, the same numbers for per-network and once', async (t) => {
  const b = getBinding()
  const { buffers, names, labels } = toySet(8)
  const ds = callNativeSync(() => b.Dataset.fromBuffers(buffers, names, { imageSize: 32, seed: 1, cacheBytes: 1 << 24, threads: 2 }))
  await callNative(() => ds.scan())
  const indices = Uint32Array.from({ length: 8 }, (_, i) => i)
  const codes = Uint8Array.from(indices, (i) => i % 3)
  const weights = { lambda: 0.5, omega: 0.6, gamma: 1, detachWeak: false, joint: false, batchShare: false }
  const run = async (precision: string, backward: string) => {
    const trainer = create(precision, backward)
    const warm = await callNative(() => trainer.warmupStep(ds, { epoch: 1, indices, labels }))
    const co = await callNative(() => trainer.coDivisionStep(ds, { epoch: 2, indices, labels, codes }, weights))
    return [warm.loss, co.loss, co.lossClean, co.lossAmbiguous, co.lossNoisy]
  }
  const bf16 = await run('bf16', 'per-network')
  t.true(bf16.every((x) => Number.isFinite(x) && x > 0), bf16.join(', '))
  t.deepEqual(await run('fp32', 'per-network'), await run('fp32', 'once'))
})
