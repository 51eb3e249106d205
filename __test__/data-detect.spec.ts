import test from 'ava'
import { join } from 'node:path'
import { loadDataset } from '../ts/data/index.ts'
import { locateDataset } from '../ts/data/detect.ts'
import { ManError } from '../ts/errors.ts'
import { tempDir, writeRafdb, writeTree } from './fixtures-helpers/data-trees.ts'

test('auto tells RAF-DB, image folders and CSV apart', async (t) => {
  const raf = await tempDir(t)
  await writeRafdb(raf, ['train_1.jpg 1', 'test_1.jpg 2'], ['train_1.jpg', 'test_1.jpg'])
  const folder = await tempDir(t)
  await writeTree(folder, { 'train/a/1.jpg': null, 'test/a/2.jpg': null })
  const csv = await tempDir(t)
  await writeTree(csv, { 'list.csv': '1.jpg,a\n2.jpg,a,test\n', '1.jpg': null, '2.jpg': null })

  t.is((await loadDataset({ path: raf, format: 'auto', skipBad: false })).index.format, 'rafdb')
  t.is((await loadDataset({ path: folder, format: 'auto', skipBad: false })).index.format, 'folder')
  t.is((await loadDataset({ path: csv, format: 'auto', skipBad: false })).index.format, 'csv')
  t.is((await loadDataset({ path: join(csv, 'list.csv'), format: 'auto', skipBad: false })).index.format, 'csv')
})

test('EmoLabel/ wins over train/, and an explicit format overrides auto', async (t) => {
  const root = await tempDir(t)
  await writeRafdb(root, ['train_1.jpg 1', 'test_1.jpg 2'], ['train_1.jpg', 'test_1.jpg'])
  await writeTree(root, { 'train/a/1.jpg': null, 'test/a/2.jpg': null })
  t.deepEqual(await locateDataset(root, 'auto'), { format: 'rafdb', path: root })
  t.deepEqual(await locateDataset(root, 'folder'), { format: 'folder', path: root })
})

test('unknown layouts and missing paths fail with ERR_MAN_DATA naming the path', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, { 'photos/a.jpg': null })
  const unknown = await t.throwsAsync(loadDataset({ path: root, format: 'auto', skipBad: false }), { instanceOf: ManError })
  t.is(unknown.code, 'ERR_MAN_DATA')
  t.true(unknown.message.includes(`cannot tell the format of the dataset at ${root}`))
  const missing = await t.throwsAsync(loadDataset({ path: join(root, 'nope'), format: 'auto', skipBad: false }), { instanceOf: ManError })
  t.is(missing.message, `dataset path ${join(root, 'nope')} does not exist`)
  await t.throwsAsync(loadDataset({ path: root, format: 'rafdb', skipBad: false }), { message: /not a RAF-DB folder/ })
  await t.throwsAsync(loadDataset({ path: root, format: 'csv', skipBad: false }), { message: /no CSV file/ })
})
