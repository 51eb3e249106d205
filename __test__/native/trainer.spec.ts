/**
 * The real addon's Dataset and Trainer on tiny generated images: learning a
 * two-class toy set, decode errors naming the file, checkpoints that refuse
 * another class count.
 */
import test from 'ava'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

import type { BindingDatasetOptions, BindingTrainerOptions } from '../../ts/native/binding.ts'
import { getBinding } from '../../ts/native/index.ts'
import { callNative, callNativeSync, ManError } from '../../ts/errors.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { toyJpeg, toySet } from '../helpers/toy-images.ts'
import { resolveConfig } from '../../ts/config/index.ts'
import { trainerOptions as optionsFor } from '../../ts/train/trainer-options.ts'

const dataOptions: BindingDatasetOptions = { imageSize: 32, seed: 1, cacheBytes: 1 << 24, threads: 2 }

function trainerOptions(numClasses: number, seed = 1): BindingTrainerOptions {
  return optionsFor(resolveConfig({ train: { seed }, runtime: { device: 'cpu' } }), numClasses)
}


test('warm-up steps learn a bright/dark toy set to >= 95% training accuracy', async (t) => {
  const b = getBinding()
  const { buffers, names, labels } = toySet(32)
  const ds = callNativeSync(() => b.Dataset.fromBuffers(buffers, names, dataOptions))
  t.is(ds.length, 32)
  t.deepEqual(await callNative(() => ds.scan()), [])
  const trainer = callNativeSync(() => b.Trainer.create(trainerOptions(2)))
  t.is(trainer.device, 'cpu')
  const indices = Uint32Array.from({ length: 32 }, (_, i) => i)
  let best = 0
  let steps = 0
  let firstLoss = Number.NaN
  let lastLoss = Number.NaN
  while (steps < 30 && best < 0.95) {
    const r = await callNative(() => trainer.warmupStep(ds, { epoch: 1 + steps, indices, labels }))
    steps++
    if (steps === 1) firstLoss = r.loss
    lastLoss = r.loss
    best = Math.min(r.correct1, r.correct2) / 32
  }
  t.true(best >= 0.95, `training accuracy of the weaker network ${best} after ${steps} steps`)
  t.log(`${steps} steps, loss ${firstLoss} -> ${lastLoss}`)
  t.true(lastLoss < firstLoss, `loss ${firstLoss} -> ${lastLoss}`)
  // Eval mode after so few steps depends on BatchNorm running statistics
  // that have barely moved, so only the shape of the answer is checked here.
  const p = await callNative(() => trainer.predict(ds, indices, 'test', 1, 16, true))
  t.is(p.pred1.length, 32)
  t.is(p.pred2.length, 32)
  t.is(p.probs?.length, 64)
  for (let i = 0; i < 32; i++) t.true(Math.abs(p.probs![2 * i]! + p.probs![2 * i + 1]! - 1) < 1e-5)
})

test('a co-division step reports each subset', async (t) => {
  const b = getBinding()
  const { buffers, names, labels } = toySet(6)
  const ds = b.Dataset.fromBuffers(buffers, names, dataOptions)
  const trainer = b.Trainer.create(trainerOptions(2))
  const r = await callNative(() =>
    trainer.coDivisionStep(
      ds,
      { epoch: 11, indices: Uint32Array.from([0, 1, 2, 3, 4, 5]), labels, codes: Uint8Array.from([0, 0, 1, 1, 2, 2]) },
      { lambda: 0.5, omega: 0.6, gamma: 1, detachWeak: false, joint: false, batchShare: false },
    ),
  )
  t.deepEqual([r.clean, r.ambiguous, r.noisy], [2, 2, 2])
  t.true(r.lossClean > 0 && r.lossAmbiguous > 0 && r.lossNoisy > 0)
  t.true(Math.abs(r.loss - (r.lossClean + 0.6 * r.lossAmbiguous + r.lossNoisy)) < 1e-4 * r.loss)
  const err = await t.throwsAsync(
    callNative(() =>
      trainer.coDivisionStep(
        ds,
        { epoch: 11, indices: Uint32Array.from([0, 7]), labels: labels.subarray(0, 2), codes: Uint8Array.from([0, 0]) },
        { lambda: 0.5, omega: 0.6, gamma: 1, detachWeak: false, joint: false, batchShare: false },
      ),
    ),
    { instanceOf: ManError },
  )
  t.is(err?.code, 'ERR_MAN_SHAPE')
  t.regex(err!.message, /indices\[1\] = 7/)
})

test('a batch without codes, or with null ones, takes a warm-up step; a co-division step refuses it', async (t) => {
  const b = getBinding()
  const { buffers, names, labels } = toySet(4)
  const ds = b.Dataset.fromBuffers(buffers, names, dataOptions)
  const trainer = b.Trainer.create(trainerOptions(2))
  const indices = Uint32Array.from([0, 1, 2, 3])
  const absent = await callNative(() => trainer.warmupStep(ds, { epoch: 1, indices, labels }, { indices, codes: null }))
  const nulled = await callNative(() => trainer.warmupStep(ds, { epoch: 1, indices, labels, codes: null }, null))
  t.true(Number.isFinite(absent.loss) && Number.isFinite(nulled.loss))
  t.is(nulled.clean, 4)
  const weights = { lambda: 0.5, omega: 0.6, gamma: 1, detachWeak: false, joint: false, batchShare: false }
  const err = await t.throwsAsync(callNative(() => trainer.coDivisionStep(ds, { epoch: 11, indices, labels, codes: null }, weights)), {
    instanceOf: ManError,
  })
  t.is(err?.code, 'ERR_MAN_SHAPE')
  t.regex(err!.message, /codes/)
})

test('a corrupt JPEG is ERR_MAN_DECODE naming the file', async (t) => {
  const b = getBinding()
  const good = toyJpeg(true, 1)
  const broken = good.subarray(0, 40)
  const ds = b.Dataset.fromBuffers([good, broken], ['good.jpg', 'broken.jpg'], dataOptions)
  const failures = await callNative(() => ds.scan())
  t.is(failures.length, 1)
  t.is(failures[0]!.index, 1)
  t.regex(failures[0]!.message, /^ERR_MAN_DECODE: .*broken\.jpg/)
  const err = await t.throwsAsync(callNative(() => ds.views(Uint32Array.from([0, 1]), 'test', 1)), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_DECODE')
  t.regex(err!.message, /broken\.jpg/)

  const dir = tempDir(t)
  const path = join(dir, 'truncated.jpg')
  writeFileSync(path, broken)
  const onDisk = b.Dataset.fromPaths([path], dataOptions)
  const trainer = b.Trainer.create(trainerOptions(2))
  const stepErr = await t.throwsAsync(
    callNative(() => trainer.warmupStep(onDisk, { epoch: 1, indices: Uint32Array.from([0]), labels: Int32Array.from([0]) })),
    { instanceOf: ManError },
  )
  t.is(stepErr?.code, 'ERR_MAN_DECODE')
  t.true(stepErr!.message.includes(path), stepErr!.message)
})

test('views are normalised NCHW float32 of the requested size', async (t) => {
  const b = getBinding()
  const { buffers, names } = toySet(2)
  const ds = b.Dataset.fromBuffers(buffers, names, dataOptions)
  const v = await callNative(() => ds.views(Uint32Array.from([0, 1]), 'weak', 3))
  t.true(v instanceof Float32Array)
  t.is(v.length, 2 * 3 * 32 * 32)
  const bad = await t.throwsAsync(callNative(() => ds.views(Uint32Array.from([0]), 'fancy' as 'test', 1)), { instanceOf: ManError })
  t.is(bad?.code, 'ERR_MAN_CONFIG')
})

test('a checkpoint round-trips its metadata and refuses another class count', async (t) => {
  const b = getBinding()
  const dir = tempDir(t)
  const path = join(dir, 'three.safetensors')
  const three = b.Trainer.create(trainerOptions(3))
  three.setLr(5e-4)
  await callNative(() => three.save(path, JSON.stringify({ epoch: 4 })))
  const again = b.Trainer.create(trainerOptions(3, 2))
  t.deepEqual(JSON.parse(await callNative(() => again.load(path))), { epoch: 4 })
  const two = b.Trainer.create(trainerOptions(2))
  const err = await t.throwsAsync(callNative(() => two.load(path)), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_WEIGHTS')
  t.regex(err!.message, /three\.safetensors/)
  t.regex(err!.message, /fc\./)
  const badLr = t.throws(() => callNativeSync(() => two.setLr(-1)), { instanceOf: ManError })
  t.is(badLr?.code, 'ERR_MAN_CONFIG')
})

test('pretrained weights that are not a checkpoint are ERR_MAN_WEIGHTS or ERR_MAN_IO', async (t) => {
  const b = getBinding()
  const dir = tempDir(t)
  const trainer = b.Trainer.create(trainerOptions(2))
  writeFileSync(join(dir, 'junk.pth'), 'not a checkpoint')
  const junk = await t.throwsAsync(callNative(() => trainer.loadPretrained(join(dir, 'junk.pth'))), { instanceOf: ManError })
  t.is(junk?.code, 'ERR_MAN_WEIGHTS')
  const absent = await t.throwsAsync(callNative(() => trainer.loadPretrained(join(dir, 'absent.pth'))), { instanceOf: ManError })
  t.is(absent?.code, 'ERR_MAN_IO')
})
