/**
 * What a dataset listing may not do: name a FIFO, a device or a folder as an
 * image, reach outside its root through a link, use a file name that is not
 * UTF-8, declare a class through a label typo, or leave a class without a
 * training sample. Each is a problem naming the file (and line).
 */
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'

import { DatasetError, loadDataset } from '../ts/data/index.ts'
import { ManError } from '../ts/errors.ts'
import { checkClasses } from '../ts/train/data-plan.ts'
import { tempDir, writeTree } from './fixtures-helpers/data-trees.ts'

const FOLDER = {
  'train/a/1.jpg': null,
  'train/a/2.jpg': null,
  'train/b/1.jpg': null,
  'test/a/1.jpg': null,
  'test/b/1.jpg': null,
}

test('image folders: a FIFO, a link to a device and a link out of the root are problems naming each file', async (t) => {
  const dir = await tempDir(t)
  const root = path.join(dir, 'set')
  await writeTree(root, { ...FOLDER, 'README.md': 'not an image' })
  execFileSync('mkfifo', [path.join(root, 'train', 'a', 'pipe.jpg')])
  await fs.symlink('/dev/null', path.join(root, 'train', 'b', 'null.png'))
  await writeTree(dir, { 'outside.jpg': null })
  await fs.symlink(path.join(dir, 'outside.jpg'), path.join(root, 'train', 'b', 'out.jpg'))
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'folder', skipBad: false }), { instanceOf: DatasetError })
  t.deepEqual(err!.problems, [
    `${root}/train/a/pipe.jpg: a named pipe (FIFO), not a regular file`,
    `${root}/train/b/null.png: a link to a character device, not a regular file`,
    `${root}/train/b/out.jpg: path train/b/out.jpg escapes the dataset root ${root} (it resolves to ${dir}/outside.jpg)`,
  ])
  const { index, skipped } = await loadDataset({ path: root, format: 'folder', skipBad: true })
  t.is(skipped.length, 3)
  t.deepEqual(index.train.paths.map((p) => path.relative(root, p)), ['train/a/1.jpg', 'train/a/2.jpg', 'train/b/1.jpg'])
})

test('an image reached through a folder link out of the root is reported', async (t) => {
  const dir = await tempDir(t)
  const root = path.join(dir, 'set')
  await writeTree(root, FOLDER)
  await writeTree(dir, { 'elsewhere/x.jpg': null })
  await fs.symlink(path.join(dir, 'elsewhere'), path.join(root, 'train', 'c'))
  // A linked folder is not listed as a class, so only CSV can name its files.
  await writeTree(root, { 'list.csv': 'path,label,split\ntrain/a/1.jpg,a\ntrain/c/x.jpg,b\ntest/a/1.jpg,a,test\n' })
  const err = await t.throwsAsync(loadDataset({ path: path.join(root, 'list.csv'), format: 'csv', skipBad: false }), {
    instanceOf: DatasetError,
  })
  t.deepEqual(err!.problems, [`${root}/list.csv:3: path train/c/x.jpg escapes the dataset root ${root} (it resolves to ${dir}/elsewhere/x.jpg)`])
})

test('a file name that is not UTF-8 is a problem asking to rename it', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, FOLDER)
  const bad = Buffer.concat([Buffer.from(path.join(root, 'train', 'b') + '/caf'), Buffer.from([0xe9]), Buffer.from('.jpg')])
  await fs.writeFile(bad, await fs.readFile(path.join(root, 'train', 'b', '1.jpg')))
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'folder', skipBad: false }), { instanceOf: DatasetError })
  t.is(err!.problems.length, 1)
  t.regex(err!.problems[0]!, /train\/b\/caf\uFFFD\.jpg: file name is not valid UTF-8: rename the file$/)
})

test('a CSV label at or over maxClasses is a problem on its line, not a million-class model', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, { 'a.jpg': null, 'b.jpg': null, 'c.jpg': null, 'd.jpg': null })
  const csv = path.join(root, 'set.csv')
  await fs.writeFile(csv, 'a.jpg,0\nb.jpg,1\nc.jpg,1000000\nd.jpg,1,test\n')
  const err = await t.throwsAsync(loadDataset({ path: csv, format: 'csv', skipBad: false }), { instanceOf: DatasetError })
  t.deepEqual(err!.problems, [`${csv}:3: label 1000000 is over the limit of 1000 classes (data.maxClasses): a typo?`])
  const { index } = await loadDataset({ path: csv, format: 'csv', skipBad: true })
  t.deepEqual(index.classNames, ['0', '1'])
  const tight = await t.throwsAsync(loadDataset({ path: csv, format: 'csv', skipBad: false, maxClasses: 1 }), { instanceOf: ManError })
  t.is(tight!.code, 'ERR_MAN_ARGUMENT')
})

test('classes without a training sample are named, with a hint for 1-based labels; allowEmptyClasses lets them be', (t) => {
  const index = (classNames: string[], labels: number[], format: 'csv' | 'rafdb' = 'csv') => ({
    root: '/data',
    format,
    classNames,
    train: { paths: labels.map((_, i) => `/data/${i}.jpg`), labels: Int32Array.from(labels) },
    test: { paths: ['/data/t.jpg'], labels: Int32Array.of(1) },
  })
  const limits = { maxClasses: 1000, allowEmptyClasses: false }
  const oneBased = t.throws(() => checkClasses(index(['0', '1', '2'], [1, 2, 1]), limits), { instanceOf: ManError })
  t.is(oneBased!.code, 'ERR_MAN_DATA')
  t.regex(oneBased!.message, /1 class\(es\) of the dataset at \/data have no training sample: "0" \(index 0\); class indices start at 0: are the labels 1-based\?/)
  const named = t.throws(() => checkClasses(index(['calm', 'happy', 'sad'], [0, 2]), limits))
  t.regex(named!.message, /"happy" \(index 1\); remove the class, add samples, or set data\.allowEmptyClasses/)
  t.notThrows(() => checkClasses(index(['calm', 'happy', 'sad'], [0, 2]), { ...limits, allowEmptyClasses: true }))
  const many = t.throws(() => checkClasses(index(['a', 'b', 'c'], [0, 1, 2]), { ...limits, maxClasses: 2 }))
  t.regex(many!.message, /declares 3 classes, over the limit of 2 \(data\.maxClasses\)/)
  // Where a protocol fixes the classes (RAF-DB), an empty one is a warning, not a typo.
  t.deepEqual(checkClasses(index(['calm', 'happy', 'sad'], [0, 2], 'rafdb'), limits), [
    '1 class(es) of the dataset at /data have no training sample: "happy" (index 1); the model will never predict them',
  ])
  t.deepEqual(checkClasses(index(['calm', 'happy', 'sad'], [0, 1, 2]), limits), [])
})
