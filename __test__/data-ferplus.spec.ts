import test from 'ava'
import { inflateSync } from 'node:zlib'
import { join } from 'node:path'
import { DatasetError, FERPLUS_CLASSES, ferplusMajority, loadDataset } from '../ts/data/index.ts'
import { parsePixels } from '../ts/data/ferplus.ts'
import { encodeGreyPng } from '../ts/data/png.ts'
import { ManError } from '../ts/errors.ts'
import { tempDir, writeTree } from './fixtures-helpers/data-trees.ts'
import { ferplusFiles, pixelText, type FerRow } from './fixtures-helpers/fer-files.ts'

//                         neu hap sur sad ang dis fea con unk NF
const ROWS: FerRow[] = [
  ['Training', 'fer0000000.png', [4, 0, 0, 1, 3, 2, 0, 0, 0, 0], 10], // 4 of 9 after dropping the single vote: no majority
  ['Training', 'fer0000001.png', [6, 0, 1, 1, 0, 0, 0, 0, 2, 0], 20], // neutral 6 of 8
  ['Training', 'fer0000002.png', [0, 10, 0, 0, 0, 0, 0, 0, 0, 0], 30], // happiness, unanimous
  ['Training', '', [0, 0, 0, 0, 0, 0, 0, 0, 0, 10], 40], // no image name: FER+ left it out
  ['Training', 'fer0000004.png', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 50], // all single votes: nothing left
  ['Training', 'fer0000005.png', [2, 0, 0, 0, 0, 0, 0, 0, 6, 2], 60], // mostly unknown
  ['Training', 'fer0000006.png', [0, 0, 0, 0, 0, 0, 0, 2, 0, 8], 70], // mostly not a face
  ['Training', 'fer0000007.png', [0, 0, 0, 0, 0, 0, 0, 6, 0, 4], 80], // contempt 6 of 10
  ['PublicTest', 'fer0000008.png', [0, 0, 5, 0, 0, 0, 5, 0, 0, 0], 90], // a 5-5 tie: no majority
  ['PublicTest', 'fer0000009.png', [0, 0, 6, 0, 0, 0, 4, 0, 0, 0], 100], // surprise
  ['PrivateTest', 'fer0000010.png', [0, 0, 0, 3, 2, 0, 0, 0, 0, 1], 110], // sadness 3 of 5 (the single NF vote dropped)
  ['PrivateTest', 'fer0000011.png', [0, 0, 0, 0, 0, 7, 3, 0, 0, 0], 120], // disgust
]

test('the majority rule of the FERPlus authors: single votes dropped, more than half, not unknown or not-a-face', (t) => {
  t.is(ferplusMajority([4, 0, 0, 1, 3, 2, 0, 0, 0, 0]), 'no majority')
  t.is(ferplusMajority([6, 0, 1, 1, 0, 0, 0, 0, 2, 0]), 0)
  t.is(ferplusMajority([5, 0, 0, 0, 4, 0, 0, 0, 0, 1]), 0, '5 of 9 once the single vote is dropped')
  t.is(ferplusMajority([5, 0, 0, 0, 5, 0, 0, 0, 0, 0]), 'no majority', 'exactly half is not a majority')
  t.is(ferplusMajority([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), 'no majority')
  t.is(ferplusMajority([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'no majority')
  t.is(ferplusMajority([2, 0, 0, 0, 0, 0, 0, 0, 6, 2]), 'unknown')
  t.is(ferplusMajority([0, 0, 0, 0, 0, 0, 0, 2, 0, 8]), 'not a face')
  t.is(ferplusMajority([0, 0, 0, 0, 0, 0, 0, 6, 0, 4]), 7)
})

test('joins fer2013.csv with fer2013new.csv: labels, splits, votes kept, pixels as PNGs in memory', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, ferplusFiles(ROWS))
  const { index, skipped, notes } = await loadDataset({ path: root, format: 'auto', skipBad: false })
  t.deepEqual(skipped, [])
  t.is(index.format, 'ferplus')
  t.deepEqual(index.classNames, FERPLUS_CLASSES)
  t.deepEqual(index.classNames, ['Neutral', 'Happiness', 'Surprise', 'Sadness', 'Anger', 'Disgust', 'Fear', 'Contempt'])
  t.deepEqual(index.train.paths, ['fer0000001.png', 'fer0000002.png', 'fer0000007.png', 'fer0000009.png'].map((n) => join(root, n)))
  t.deepEqual(Array.from(index.train.labels), [0, 1, 7, 2])
  t.deepEqual(Array.from(index.validationTrain!), [0, 0, 0, 1], 'PublicTest is the validation split')
  t.deepEqual(index.test.paths, ['fer0000010.png', 'fer0000011.png'].map((n) => join(root, n)))
  t.deepEqual(Array.from(index.test.labels), [3, 5])
  t.deepEqual(index.voteNames, [...FERPLUS_CLASSES, 'Unknown', 'Not a face'])
  t.deepEqual(Array.from(index.train.votes!.subarray(0, 10)), [6, 0, 1, 1, 0, 0, 0, 0, 2, 0], 'raw votes, before the single-vote rule')
  t.deepEqual(Array.from(index.test.votes!.subarray(10, 20)), [0, 0, 0, 0, 0, 7, 3, 0, 0, 0])
  t.deepEqual(notes, ['FERPlus majority rule left out 6 of 12 rows: 1 without an image name, 3 without a majority, 1 mostly unknown, 1 mostly not a face'])

  t.is(index.train.images!.length, 4)
  const png = Buffer.from(index.train.images![1]!)
  t.is(png.subarray(1, 4).toString('latin1'), 'PNG')
  t.is(png.readUInt32BE(16), 48)
  t.is(png.readUInt32BE(20), 48)
  const idat = png.indexOf('IDAT')
  const rows = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)))
  t.is(rows.length, 48 * 49)
  t.is(rows[1], 2, 'first pixel: the row number of fer2013.csv (row 2)')
  t.is(rows[2], 30)
})

test('PNG encoding keeps every pixel (rows prefixed by filter 0)', (t) => {
  const pixels = Uint8Array.from({ length: 6 }, (_, i) => i * 40)
  const png = encodeGreyPng(pixels, 3, 2)
  const idat = png.indexOf('IDAT')
  t.deepEqual([...inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)))], [0, 0, 40, 80, 0, 120, 160, 200])
  t.throws(() => encodeGreyPng(pixels, 4, 2), { instanceOf: RangeError })
})

test('pixel text: 2304 numbers 0-255, or why not', (t) => {
  t.is((parsePixels(pixelText(7)) as Uint8Array).length, 2304)
  t.regex(parsePixels('1 2 3') as string, /3 pixels, expected 48x48 = 2304/)
  t.regex(parsePixels(pixelText(256)) as string, /over 255/)
  t.regex(parsePixels(pixelText(1).replace(/ 1$/, ' x')) as string, /not a number/)
  t.regex(parsePixels(`${pixelText(1)} 1`) as string, /more than 48x48/)
})

test('finds fer2013.csv in fer2013/ (as the Kaggle archive unpacks) and by --format ferplus', async (t) => {
  const root = await tempDir(t)
  const files = ferplusFiles(ROWS)
  await writeTree(root, { 'fer2013/fer2013.csv': files['fer2013.csv']!, 'fer2013new.csv': files['fer2013new.csv']! })
  const { index } = await loadDataset({ path: root, format: 'ferplus', skipBad: false })
  t.is(index.train.paths.length, 4)
  const other = await tempDir(t)
  const err = await t.throwsAsync(loadDataset({ path: other, format: 'ferplus', skipBad: false }), { instanceOf: ManError })
  t.regex(err.message, /not a FERPlus folder/)
})

test('bad rows are reported with file and line; skipBad trains on the rest', async (t) => {
  const root = await tempDir(t)
  const files = ferplusFiles(ROWS)
  const fer = files['fer2013.csv']!.split('\n')
  const labels = files['fer2013new.csv']!.split('\n')
  fer[2] = fer[2]!.replace(/ \d+,Training$/, ',Training') // line 3: one pixel short
  labels[3] = labels[3]!.replace('0,10,0', '0,ten,0') // line 4: a vote that is not a number
  labels[10] = labels[10]!.replace('PublicTest', 'Validation') // line 11: unknown usage
  fer[12] = fer[12]!.replace('PrivateTest', 'PublicTest') // line 13: the files disagree
  await writeTree(root, { 'fer2013.csv': fer.join('\n'), 'fer2013new.csv': labels.join('\n') })
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'auto', skipBad: false }), { instanceOf: DatasetError })
  const ferFile = join(root, 'fer2013.csv')
  const newFile = join(root, 'fer2013new.csv')
  t.deepEqual(err.problems, [
    `${ferFile}:3: malformed pixels: 2303 pixels, expected 48x48 = 2304`,
    `${ferFile}:13: Usage "PublicTest" differs from "PrivateTest" on line 13 of ${newFile} (the files must be in the same order)`,
    `${newFile}:4: happiness must be a vote count, got "ten"`,
    `${newFile}:11: unknown Usage "Validation" (expected Training, PublicTest or PrivateTest)`,
  ])
  const { index, skipped } = await loadDataset({ path: root, format: 'auto', skipBad: true })
  t.is(skipped.length, 4)
  t.deepEqual(Array.from(index.train.labels), [7])
  t.is(index.validationTrain, undefined, 'the one PublicTest row was bad')
  t.deepEqual(Array.from(index.test.labels), [3])
})

test('files of different lengths are named', async (t) => {
  const root = await tempDir(t)
  const files = ferplusFiles(ROWS)
  const fer = files['fer2013.csv']!.trimEnd().split('\n')
  await writeTree(root, { 'fer2013.csv': fer.slice(0, -2).join('\n'), 'fer2013new.csv': files['fer2013new.csv']! })
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'auto', skipBad: false }), { instanceOf: DatasetError })
  t.deepEqual(err.problems, [`${join(root, 'fer2013new.csv')}:12: ${join(root, 'fer2013.csv')} ends after 10 rows; this file has 12 (rows must match one to one)`])
})

test('a wrong header says which columns are missing', async (t) => {
  const root = await tempDir(t)
  const files = ferplusFiles(ROWS)
  await writeTree(root, { ...files, 'fer2013new.csv': files['fer2013new.csv']!.replace(',NF', ',notaface') })
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'auto', skipBad: false }), { instanceOf: ManError })
  t.regex(err.message, /fer2013new\.csv:1: not a FERPlus label file: the header lacks nf/)
})

test('AffectNet options are refused for FERPlus', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, ferplusFiles(ROWS))
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'auto', skipBad: false, classes: 7 }), { instanceOf: ManError })
  t.regex(err.message, /data\.classes picks AffectNet's 7- or 8-class protocol; this is a ferplus dataset/)
})
