import test from 'ava'
import { join } from 'node:path'
import { DatasetError, loadDataset } from '../ts/data/index.ts'
import { splitCsvLine } from '../ts/data/csv.ts'
import { tempDir, writeTree } from './fixtures-helpers/data-trees.ts'

test('class-name labels, a header, quoted paths, split defaulting to train', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, {
    'labels.csv': 'path,label,split\nimg/a.jpg,sad\n"img/b, c.jpg",happy,train\nimg/d.jpg,sad,TEST\nimg/e.jpg,happy,test\n',
    'img/a.jpg': null,
    'img/b, c.jpg': null,
    'img/d.jpg': null,
    'img/e.jpg': null,
  })
  const { index } = await loadDataset({ path: join(root, 'labels.csv'), format: 'csv', skipBad: false })
  t.is(index.format, 'csv')
  t.is(index.root, root)
  t.deepEqual(index.classNames, ['happy', 'sad'])
  t.deepEqual(index.train.paths, [join(root, 'img/a.jpg'), join(root, 'img/b, c.jpg')])
  t.deepEqual(Array.from(index.train.labels), [1, 0])
  t.deepEqual(Array.from(index.test.labels), [1, 0])
})

test('integer labels without a header; the header may reorder columns', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, {
    'a.csv': 'x.jpg,2\ny.jpg,0,train\nz.jpg,1,test\n',
    'x.jpg': null,
    'y.jpg': null,
    'z.jpg': null,
  })
  const { index } = await loadDataset({ path: root, format: 'auto', skipBad: false })
  t.deepEqual(index.classNames, ['0', '1', '2'])
  t.deepEqual(Array.from(index.train.labels), [2, 0])
  t.deepEqual(Array.from(index.test.labels), [1])

  await writeTree(root, { 'a.csv': 'split,label,path\ntrain,1,x.jpg\ntest,0,y.jpg\n' })
  const reordered = await loadDataset({ path: join(root, 'a.csv'), format: 'csv', skipBad: false })
  t.deepEqual(reordered.index.train.paths, [join(root, 'x.jpg')])
  t.deepEqual(reordered.index.classNames, ['0', '1'])
})

test('every bad row is reported with its line, and skipBad keeps the good ones', async (t) => {
  const root = await tempDir(t)
  const outside = await tempDir(t, 'man-fer-outside-')
  await writeTree(outside, { 'o.jpg': null })
  const csv = [
    'path,label,split', // 1
    'a.jpg,happy', // 2 ok
    'b.jpg', // 3 malformed
    'c.jpg,happy,validation', // 4 malformed split
    'missing.jpg,happy', // 5 missing
    'a.jpg,sad', // 6 duplicate
    '../escape.jpg,happy', // 7 escapes
    `${join(outside, 'o.jpg')},happy`, // 8 absolute outside
    'd.jpg,angry,test', // 9 unknown (not in train)
    'e.jpg,happy,test', // 10 ok
    '"f.jpg,happy', // 11 unclosed quote
    ',happy', // 12 empty path
    'g.jpg,7', // 13 unknown: the file is by name
  ]
  await writeTree(root, { 'set.csv': csv.join('\n'), 'a.jpg': null, 'c.jpg': null, 'd.jpg': null, 'e.jpg': null, 'g.jpg': null })
  const file = join(root, 'set.csv')
  const err = await t.throwsAsync(loadDataset({ path: file, format: 'auto', skipBad: false }), { instanceOf: DatasetError })
  t.is(err.code, 'ERR_MAN_DATA')
  const expected: [number, RegExp][] = [
    [3, /malformed line/],
    [4, /split must be train or test/],
    [5, /missing image/],
    [6, /duplicate entry for a\.jpg \(first at .*set\.csv:2\)/],
    [7, /path \.\.\/escape\.jpg escapes the dataset root/],
    [8, /escapes the dataset root/],
    [9, /unknown label "angry" \(not in the training rows\)/],
    [11, /unclosed quote/],
    [12, /empty path/],
    [13, /unknown label "7" \(labels in this file are class names\)/],
  ]
  t.is(err.problems.length, expected.length)
  t.regex(err.message, new RegExp(`^${expected.length} problems in dataset `))
  expected.forEach(([line, re], i) => {
    t.true(err.problems[i]!.startsWith(`${file}:${line}: `), err.problems[i])
    t.regex(err.problems[i]!, re)
  })
  const { index, skipped } = await loadDataset({ path: file, format: 'csv', skipBad: true })
  t.deepEqual(skipped, err.problems)
  t.deepEqual(index.train.paths, [join(root, 'a.jpg')])
  t.deepEqual(index.test.paths, [join(root, 'e.jpg')])
})

test('a folder with two CSVs asks which one', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, { 'a.csv': 'x.jpg,1\n', 'b.csv': 'x.jpg,1\n' })
  await t.throwsAsync(loadDataset({ path: root, format: 'auto', skipBad: false }), { message: /several CSV files \(a\.csv, b\.csv\)/ })
})

test('splitCsvLine handles quotes and doubled quotes', (t) => {
  t.deepEqual(splitCsvLine('a,"b,c","d""e", f '), ['a', 'b,c', 'd"e', 'f'])
  t.is(splitCsvLine('"open,x'), null)
})
