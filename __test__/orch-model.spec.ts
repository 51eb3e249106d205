import { promises as fs } from 'node:fs'
import path from 'node:path'

import test from 'ava'

import { ManError } from '../ts/errors.ts'
import { evaluate, loadModel } from '../ts/model.ts'
import { setBinding } from '../ts/native/index.ts'
import { train } from '../ts/train/train.ts'
import { FakeBinding } from './fake-binding.ts'
import { classOfName, makeIndex, tempDir, tinyConfig } from './helpers/orch.ts'

test.afterEach.always(() => setBinding(undefined))

async function trainedRun(t: Parameters<typeof tempDir>[0]) {
  setBinding(new FakeBinding({ classOf: classOfName }))
  const dir = await tempDir(t)
  const index = makeIndex({ train: 12, test: 9 })
  const result = await train(tinyConfig(dir, { train: { epochs: 3, imageSize: 24 } }), { dataset: index })
  return { dir, index, result }
}

test.serial('loadModel reads class names and image size from the best checkpoint', async (t) => {
  const { dir, index } = await trainedRun(t)
  const fake = new FakeBinding({ classOf: classOfName })
  setBinding(fake)
  const model = await loadModel(dir)
  t.deepEqual(model.classNames, index.classNames)
  t.is(model.imageSize, 24)
  t.is(model.checkpoint, path.join(path.resolve(dir), 'checkpoints', 'best.safetensors'))
  t.is(fake.trainers[0]!.options.numClasses, index.classNames.length)
  t.deepEqual(
    fake.calls.filter((c) => c.method === 'load').map((c) => c.detail!.path),
    [model.checkpoint],
  )
  const last = await loadModel(dir, { checkpoint: 'last' })
  t.is(last.checkpoint, path.join(path.resolve(dir), 'checkpoints', 'last.safetensors'))
  const direct = await loadModel(last.checkpoint)
  t.is(direct.checkpoint, last.checkpoint)
})

test.serial('predict gives ensemble probabilities, index and label per image, for paths and buffers', async (t) => {
  const { dir, index } = await trainedRun(t)
  const fake = new FakeBinding({ classOf: classOfName })
  setBinding(fake)
  const model = await loadModel(dir)
  const paths = index.test.paths.slice(0, 4)
  const got = await model.predict(paths)
  t.is(got.length, 4)
  const call = fake.calls.filter((c) => c.method === 'predict').at(-1)!
  t.is(call.detail!.view, 'test')
  t.true(call.detail!.withProbs as boolean)
  got.forEach((p, i) => {
    t.is(p.probabilities.length, index.classNames.length)
    t.true(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5)
    t.is(p.index, p.probabilities.indexOf(Math.max(...p.probabilities)))
    t.is(p.label, index.classNames[p.index]!)
    // The fake's ensemble picks f1 on even rows and f2 on odd rows.
    const expected = i % 2 === 0 ? (call.detail!.pred1 as number[])[i]! : (call.detail!.pred2 as number[])[i]!
    t.is(p.index, expected)
  })

  const buffers = [Buffer.from('a'), Buffer.from('b')]
  const fromBuffers = await model.predict(buffers)
  t.is(fromBuffers.length, 2)
  t.is(fake.datasets.at(-1)!.names.length, 2)

  const mixed = await model.predict([paths[0]!, Buffer.from('c'), paths[1]!])
  t.is(mixed.length, 3)
  t.deepEqual(await model.predict([]), [])
})

test.serial('evaluate scores the test split: accuracy, mean class accuracy, confusion, per class', async (t) => {
  const { dir, index } = await trainedRun(t)
  const fake = new FakeBinding({ classOf: classOfName })
  setBinding(fake)
  const model = await loadModel(dir)
  const scores = await evaluate(model, index)
  const call = fake.calls.filter((c) => c.method === 'predict').at(-1)!
  const p1 = call.detail!.pred1 as number[]
  const p2 = call.detail!.pred2 as number[]
  const pred = p1.map((v, i) => (i % 2 === 0 ? v : p2[i]!))
  const labels = Array.from(index.test.labels)
  const k = index.classNames.length
  t.is(scores.accuracy, pred.filter((p, i) => p === labels[i]).length / labels.length)
  const perClass = index.classNames.map((_, c) => {
    const members = labels.flatMap((y, i) => (y === c ? [i] : []))
    return { total: members.length, correct: members.filter((i) => pred[i] === c).length }
  })
  const present = perClass.filter((c) => c.total > 0)
  t.true(Math.abs(scores.meanClassAccuracy - present.reduce((s, c) => s + c.correct / c.total, 0) / present.length) < 1e-12)
  t.deepEqual(scores.perClass.map((c) => [c.total, c.correct]), perClass.map((c) => [c.total, c.correct]))
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      t.is(scores.confusion[a]![b], labels.filter((y, i) => y === a && pred[i] === b).length)
    }
  }
  const plain = await evaluate(model, { paths: index.test.paths, labels: Array.from(index.test.labels) })
  t.deepEqual(plain, scores)
})

test.serial('loadModel fails clearly on a directory without checkpoints or a file that is not one', async (t) => {
  setBinding(new FakeBinding())
  const dir = await tempDir(t)
  const err = await t.throwsAsync(loadModel(dir), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_RUN_DIR')
  const file = path.join(dir, 'not-a-checkpoint.safetensors')
  await fs.writeFile(file, 'hello world, not safetensors')
  const err2 = await t.throwsAsync(loadModel(file), { instanceOf: ManError })
  t.is(err2?.code, 'ERR_MAN_WEIGHTS')
  const missing = await t.throwsAsync(loadModel(path.join(dir, 'nope')), { instanceOf: ManError })
  t.is(missing?.code, 'ERR_MAN_IO')
})

test.serial('evaluate refuses a dataset with other classes', async (t) => {
  const { dir } = await trainedRun(t)
  setBinding(new FakeBinding())
  const model = await loadModel(dir)
  const other = makeIndex({ train: 4, test: 4, classes: 3 })
  const err = await t.throwsAsync(evaluate(model, other), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_DATA')
})
