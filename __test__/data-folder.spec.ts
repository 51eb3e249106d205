import test from 'ava'
import { join } from 'node:path'
import { DatasetError, loadDataset } from '../ts/data/index.ts'
import { ManError } from '../ts/errors.ts'
import { tempDir, writeTree } from './fixtures-helpers/data-trees.ts'

test('reads train/<class>/ and test/<class>/ with sorted classes and image extensions only', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, {
    'train/sad/b.png': null,
    'train/sad/a.JPG': null,
    'train/happy/x.jpeg': null,
    'train/happy/notes.txt': 'not an image',
    'train/happy/.DS_Store': 'junk',
    'train/Angry/1.jpg': null,
    'test/happy/t.jpg': null,
    'test/sad/u.jpg': null,
  })
  const { index, skipped } = await loadDataset({ path: root, format: 'folder', skipBad: false })
  t.deepEqual(skipped, [])
  t.is(index.format, 'folder')
  t.deepEqual(index.classNames, ['Angry', 'happy', 'sad'])
  t.deepEqual(index.train.paths, ['train/Angry/1.jpg', 'train/happy/x.jpeg', 'train/sad/a.JPG', 'train/sad/b.png'].map((p) => join(root, p)))
  t.deepEqual(Array.from(index.train.labels), [0, 1, 2, 2])
  t.deepEqual(Array.from(index.test.labels), [1, 2])
})

test('a test class missing from train is reported with its folder; skipBad drops it', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, {
    'train/happy/a.jpg': null,
    'test/happy/b.jpg': null,
    'test/contempt/c.jpg': null,
    'test/contempt/d.jpg': null,
  })
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'auto', skipBad: false }), { instanceOf: DatasetError })
  t.regex(err.message, /^1 problem in dataset /)
  t.true(err.problems[0]!.startsWith(`${join(root, 'test', 'contempt')}: unknown label: class "contempt" is not in train/ (2 images)`))
  const { index, skipped } = await loadDataset({ path: root, format: 'auto', skipBad: true })
  t.deepEqual(index.classNames, ['happy'])
  t.is(index.test.paths.length, 1)
  t.deepEqual(skipped, err.problems)
})

test('no test folder means an empty test split, which is an error', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, { 'train/happy/a.jpg': null })
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'folder', skipBad: false }), { instanceOf: ManError })
  t.is(err.code, 'ERR_MAN_DATA')
  t.regex(err.message, /the test split is empty/)
})

test('format folder on a folder without train/ says what it expected', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, { 'images/a.jpg': null })
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'folder', skipBad: false }), { instanceOf: ManError })
  t.regex(err.message, /no train\/<class>\/ folders/)
})
