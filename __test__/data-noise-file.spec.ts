import test from 'ava'
import { join } from 'node:path'
import { resolveConfig } from '../ts/config/index.ts'
import { DatasetError, loadDataset } from '../ts/data/index.ts'
import { applyNoiseFile } from '../ts/data/noise-labels.ts'
import { ManError } from '../ts/errors.ts'
import { planData } from '../ts/train/data-plan.ts'
import { tempDir, writeRafdb, writeTree } from './fixtures-helpers/data-trees.ts'

const CLEAN = ['train_00001.jpg 5', 'train_00002.jpg 1', 'train_00003.jpg 7', 'train_00004.jpg 4', 'test_0001.jpg 4', 'test_0002.jpg 2']
const IMAGES = CLEAN.map((l) => l.split(' ')[0]!)

/** EAC's noise01.txt as published: training lines only, 1-based labels, no newline at the end. */
const EAC_STYLE = 'train_00001.jpg 5\ntrain_00002.jpg 3\ntrain_00003.jpg 7\ntrain_00004.jpg 6'

async function rafdb(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const root = await tempDir(t)
  await writeRafdb(root, CLEAN, IMAGES)
  return root
}

test('an EAC-style noise file replaces the training labels; the clean ones become the truth', async (t) => {
  const root = await rafdb(t)
  await writeTree(root, { 'EmoLabel/noise01.txt': EAC_STYLE })
  const { index } = await loadDataset({ path: root, format: 'auto', skipBad: false })
  const file = join(root, 'EmoLabel', 'noise01.txt')
  const { index: noisy, skipped } = await applyNoiseFile(index, file, false)
  t.deepEqual(skipped, [])
  t.deepEqual(Array.from(noisy.train.labels), [4, 2, 6, 5])
  t.deepEqual(Array.from(noisy.trueTrainLabels!), [4, 0, 6, 3])
  t.deepEqual(Array.from(index.train.labels), [4, 0, 6, 3], 'the input index is not modified')
  t.is(noisy.labelsFrom, file)
  t.deepEqual(noisy.test, index.test)

  const plan = planData(noisy, resolveConfig({ noise: { file } }))
  t.deepEqual(Array.from(plan.trainLabels), [4, 2, 6, 5])
  t.deepEqual(Array.from(plan.flippedMask!), [0, 1, 0, 1], 'scored like injected noise')
  t.deepEqual(plan.noise, { rate: 0.5, seed: 0, flipped: Uint32Array.of(1, 3), file })
})

test('names may be root-relative paths or file names; every problem is reported with its line', async (t) => {
  const root = await rafdb(t)
  const file = join(root, 'labels.txt')
  await writeTree(root, {
    'labels.txt': [
      'Image/aligned/train_00001_aligned.jpg 2', // 1: by path
      'train_00002_aligned.jpg 2', // 2: by file name
      'train_00003.jpg 9', // 3: no such class
      'test_0001.jpg 1', // 4: a test image
      'train_09999.jpg 1', // 5: not in the dataset
      'train_00002.jpg 3', // 6: listed twice
      'train_00003.jpg', // 7: malformed
    ].join('\n'),
  })
  const { index } = await loadDataset({ path: root, format: 'auto', skipBad: false })
  const err = await t.throwsAsync(applyNoiseFile(index, file, false), { instanceOf: DatasetError })
  t.deepEqual(err.problems, [
    `${file}: 2 training image(s) are not listed (Image/aligned/train_00003_aligned.jpg, Image/aligned/train_00004_aligned.jpg); they would keep their clean labels`,
    `${file}:3: unknown label "9" for train_00003.jpg (labels are 1-7: Surprise, Fear, Disgust, Happiness, Sadness, Anger, Neutral)`,
    `${file}:4: test_0001.jpg is a test image: a noise file relabels training images only`,
    `${file}:5: train_09999.jpg is not a training image of ${root}`,
    `${file}:6: duplicate entry for train_00002.jpg (first at line 2)`,
    `${file}:7: malformed line (expected "<image name> <label 1-7>"): "train_00003.jpg"`,
  ])
  const { index: noisy, skipped } = await applyNoiseFile(index, file, true)
  t.is(skipped.length, 6)
  t.deepEqual(Array.from(noisy.train.labels), [1, 1, 6, 3], 'unlisted images keep their labels with skipBad')
})

test('a missing noise file is named; noise.file with noise.rate is refused', async (t) => {
  const root = await rafdb(t)
  const { index } = await loadDataset({ path: root, format: 'auto', skipBad: false })
  const err = await t.throwsAsync(applyNoiseFile(index, join(root, 'nope.txt'), false), { instanceOf: ManError })
  t.regex(err.message, /cannot read the noise label file .*nope\.txt/)
  const config = t.throws(() => resolveConfig({ noise: { file: 'noise01.txt', rate: 0.2 } }), { instanceOf: ManError })
  t.regex(config.message, /Invalid value for option noise\.file: replaces the labels itself: leave noise\.rate at 0/)
})

test("a dataset's own validation split is held out of training; validationSplit on top of it is refused", async (t) => {
  const root = await rafdb(t)
  const { index } = await loadDataset({ path: root, format: 'auto', skipBad: false })
  const withVal = { ...index, validationTrain: Uint8Array.of(0, 1, 0, 1) }
  const plan = planData(withVal, resolveConfig({}))
  t.deepEqual(Array.from(plan.trainMembers), [0, 2])
  t.deepEqual(Array.from(plan.valMembers), [1, 3])
  t.deepEqual(Array.from(plan.valLabels), [0, 3])
  const err = t.throws(() => planData(withVal, resolveConfig({ data: { validationSplit: 0.25 } })), { instanceOf: ManError })
  t.regex(err.message, /data\.validationSplit: the rafdb dataset has its own validation split/)
})

test('the dataset options have no defaults in the resolved config, so runs made before them resume (same config hash)', (t) => {
  const c = resolveConfig({})
  t.deepEqual(Object.keys(c.data).sort(), ['format', 'skipBad', 'validationSplit'])
  t.deepEqual(Object.keys(c.noise).sort(), ['rate', 'seed'])
  t.false('sampler' in c.train)
})
