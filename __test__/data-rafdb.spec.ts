import test from 'ava'
import { mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { DatasetError, loadDataset, RAFDB_CLASSES } from '../ts/data/index.ts'
import { ManError } from '../ts/errors.ts'
import { tempDir, writeRafdb, writeTree } from './fixtures-helpers/data-trees.ts'

const GOOD = ['train_00001.jpg 5', 'train_00002.jpg 1', 'train_00003.jpg 7', 'test_0001.jpg 4', 'test_0002.jpg 2']
const IMAGES = ['train_00001.jpg', 'train_00002.jpg', 'train_00003.jpg', 'test_0001.jpg', 'test_0002.jpg']

test('reads the official partition file: labels 1-7 become 0-6, split from the name', async (t) => {
  const root = await tempDir(t)
  await writeRafdb(root, GOOD, IMAGES)
  const { index, skipped } = await loadDataset({ path: root, format: 'rafdb', skipBad: false })
  t.deepEqual(skipped, [])
  t.is(index.format, 'rafdb')
  t.deepEqual(index.classNames, RAFDB_CLASSES)
  t.deepEqual(index.classNames, ['Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger', 'Neutral'])
  t.deepEqual(index.train.paths, [1, 2, 3].map((i) => join(root, 'Image', 'aligned', `train_0000${i}_aligned.jpg`)))
  t.deepEqual(Array.from(index.train.labels), [4, 0, 6])
  t.deepEqual(index.test.paths, [1, 2].map((i) => join(root, 'Image', 'aligned', `test_000${i}_aligned.jpg`)))
  t.deepEqual(Array.from(index.test.labels), [3, 1])
  t.is(index.trueTrainLabels, undefined)
})

test('reads the train_label.txt / test_label.txt variant', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, {
    'EmoLabel/train_label.txt': 'train_00001.jpg 5\r\ntrain_00002.jpg 1\r\n',
    'EmoLabel/test_label.txt': 'test_0001.jpg 4\n',
    'Image/aligned/train_00001_aligned.jpg': null,
    'Image/aligned/train_00002_aligned.jpg': null,
    'Image/aligned/test_0001_aligned.jpg': null,
  })
  const { index } = await loadDataset({ path: root, format: 'auto', skipBad: false })
  t.is(index.format, 'rafdb')
  t.deepEqual(Array.from(index.train.labels), [4, 0])
  t.deepEqual(Array.from(index.test.labels), [3])
})

test('a missing partner of the variant label files is named', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, { 'EmoLabel/train_label.txt': 'train_00001.jpg 5\n', 'Image/aligned/train_00001_aligned.jpg': null })
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'rafdb', skipBad: false }), { instanceOf: ManError })
  t.is(err.code, 'ERR_MAN_DATA')
  t.regex(err.message, /test_label\.txt is missing/)
})

test('finds the root from its parent basic/ folder, from EmoLabel/ and from the label file', async (t) => {
  const top = await tempDir(t)
  const root = join(top, 'basic')
  await writeRafdb(root, GOOD, IMAGES)
  for (const path of [top, root, join(root, 'EmoLabel'), join(root, 'EmoLabel', 'list_patition_label.txt')]) {
    const { index } = await loadDataset({ path, format: 'auto', skipBad: false })
    t.is(index.root, root, path)
    t.is(index.train.paths.length, 3)
  }
})

test('collects every kind of problem, each as file:line, before failing', async (t) => {
  const root = await tempDir(t)
  const lines = [
    'train_00001.jpg 5', // 1 ok
    'train_00002.jpg', // 2 malformed
    'train_00003.jpg 9', // 3 unknown label
    'train_00004.jpg 3', // 4 missing image
    'train_00001.jpg 2', // 5 duplicate of 1
    'train_/../../../../outside.jpg 1', // 6 escapes root
    'valid_00001.jpg 1', // 7 malformed name
    '', // blank lines are fine
    'test_0001.jpg x', // 9 unknown label
    'test_0002.jpg 2', // 10 ok
  ]
  await writeRafdb(root, lines, ['train_00001.jpg', 'test_0002.jpg'])
  const file = join(root, 'EmoLabel', 'list_patition_label.txt')
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'rafdb', skipBad: false }), {
    instanceOf: DatasetError,
  })
  t.is(err.code, 'ERR_MAN_DATA')
  t.regex(err.message, /^7 problems in dataset /)
  t.is(err.problems.length, 7)
  const expected: [number, RegExp][] = [
    [2, /malformed line/],
    [3, /unknown label "9"/],
    [4, /missing image: .*train_00004_aligned\.jpg/],
    [5, /duplicate entry for train_00001\.jpg \(first at .*list_patition_label\.txt:1\)/],
    [6, /escapes the dataset root/],
    [7, /malformed image name "valid_00001\.jpg"/],
    [9, /unknown label "x"/],
  ]
  for (const [line, re] of expected) {
    const p = err.problems.find((s) => s.startsWith(`${file}:${line}: `))
    t.truthy(p, `no problem reported for line ${line}`)
    t.regex(p ?? '', re)
    t.true(err.message.includes(`${file}:${line}: `))
  }
})

test('skipBad drops the bad entries and lists them', async (t) => {
  const root = await tempDir(t)
  await writeRafdb(root, ['train_00001.jpg 5', 'train_00002.jpg 0', 'train_00003.jpg 1', 'test_0001.jpg 4'], [
    'train_00001.jpg',
    'train_00002.jpg',
    'test_0001.jpg',
  ])
  const file = join(root, 'EmoLabel', 'list_patition_label.txt')
  const { index, skipped } = await loadDataset({ path: root, format: 'rafdb', skipBad: true })
  t.deepEqual(Array.from(index.train.labels), [4])
  t.is(index.test.paths.length, 1)
  t.is(skipped.length, 2)
  t.true(skipped[0]!.startsWith(`${file}:2: unknown label "0"`))
  t.true(skipped[1]!.startsWith(`${file}:3: missing image`))
})

test('an empty split is an error, even with skipBad', async (t) => {
  const root = await tempDir(t)
  await writeRafdb(root, ['train_00001.jpg 5', 'test_0001.jpg 4'], ['train_00001.jpg'])
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'rafdb', skipBad: true }), { instanceOf: DatasetError })
  t.regex(err.message, /the test split is empty after dropping 1 bad entries/)
  t.regex(err.message, /list_patition_label\.txt:2: missing image/)
})

test('an image that is a folder or a broken link is reported', async (t) => {
  const root = await tempDir(t)
  await writeRafdb(root, ['train_00001.jpg 5', 'train_00002.jpg 5', 'train_00003.jpg 5', 'test_0001.jpg 4'], [
    'train_00001.jpg',
    'test_0001.jpg',
  ])
  await mkdir(join(root, 'Image', 'aligned', 'train_00002_aligned.jpg'))
  await symlink(join(root, 'nowhere.jpg'), join(root, 'Image', 'aligned', 'train_00003_aligned.jpg'))
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'rafdb', skipBad: false }), { instanceOf: DatasetError })
  t.is(err.problems.length, 2)
  t.regex(err.problems[0]!, /:2: a directory, not a regular file/)
  t.regex(err.problems[1]!, /:3: broken link/)
})

test('a link to an image inside the dataset counts as present', async (t) => {
  const root = await tempDir(t)
  await writeRafdb(root, ['train_00001.jpg 5', 'train_00002.jpg 5', 'test_0001.jpg 4'], ['train_00001.jpg', 'test_0001.jpg'])
  await symlink(join(root, 'Image', 'aligned', 'train_00001_aligned.jpg'), join(root, 'Image', 'aligned', 'train_00002_aligned.jpg'))
  const { index } = await loadDataset({ path: root, format: 'rafdb', skipBad: false })
  t.is(index.train.paths.length, 2)
})

test('in the variant, an image listed in the other split’s file is reported', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, {
    'EmoLabel/train_label.txt': 'train_00001.jpg 5\ntest_0002.jpg 1\n',
    'EmoLabel/test_label.txt': 'test_0001.jpg 4\n',
    'Image/aligned/train_00001_aligned.jpg': null,
    'Image/aligned/test_0001_aligned.jpg': null,
    'Image/aligned/test_0002_aligned.jpg': null,
  })
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'rafdb', skipBad: false }), { instanceOf: DatasetError })
  t.deepEqual(err.problems, [
    `${join(root, 'EmoLabel', 'train_label.txt')}:2: test_0002.jpg is a test image listed in the train label file`,
  ])
})

test('names that already end in _aligned are not suffixed twice', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, {
    'EmoLabel/list_patition_label.txt': 'train_00001_aligned.jpg 5\ntest_0001_aligned.jpg 4\n',
    'Image/aligned/train_00001_aligned.jpg': null,
    'Image/aligned/test_0001_aligned.jpg': null,
  })
  const { index } = await loadDataset({ path: root, format: 'rafdb', skipBad: false })
  t.deepEqual(index.train.paths, [join(root, 'Image', 'aligned', 'train_00001_aligned.jpg')])
})
