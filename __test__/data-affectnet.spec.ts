import test from 'ava'
import { join } from 'node:path'
import { AFFECTNET_CLASSES, DatasetError, loadDataset } from '../ts/data/index.ts'
import { ManError } from '../ts/errors.ts'
import { tempDir, writeTree } from './fixtures-helpers/data-trees.ts'

const HEADER = 'subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal'
const LANDMARKS = '10.5;20.25;30;40.75'

/** A manifest row: image `d/<code>_<n>.jpg` with expression `code` and face box (x, y, w, h). */
function row(code: number | string, n: number, box = [3, 4, 50, 60]): string {
  return `${Number(code) % 3}/${code}_${n}.jpg,${box.join(',')},${LANDMARKS},${code},0.5,-0.25`
}

/** Every code 0-10 once in training (plus a second Happy), 0-7 in validation; one image file per row. */
async function writeAffectnet(root: string, extra: Record<string, string> = {}, imageDir = 'Manually_Annotated_Images'): Promise<void> {
  const training = [HEADER, ...Array.from({ length: 11 }, (_, c) => row(c, 1)), row(1, 2)]
  const validation = [HEADER, ...Array.from({ length: 8 }, (_, c) => row(c, 3))]
  const files: Record<string, string | null> = {
    'training.csv': training.join('\r\n') + '\r\n',
    'validation.csv': validation.join('\n') + '\n',
    ...extra,
  }
  for (const line of [...training.slice(1), ...validation.slice(1)]) files[join(imageDir, line.split(',')[0]!)] = null
  await writeTree(root, files)
}

test('8-class protocol: codes 0-7 are the labels, None/Uncertain/Non-Face left out, validation is the test split', async (t) => {
  const root = await tempDir(t)
  await writeAffectnet(root)
  const { index, skipped, notes } = await loadDataset({ path: root, format: 'auto', skipBad: false })
  t.deepEqual(skipped, [])
  t.is(index.format, 'affectnet')
  t.deepEqual(index.classNames, AFFECTNET_CLASSES)
  t.deepEqual(index.classNames, ['Neutral', 'Happy', 'Sad', 'Surprise', 'Fear', 'Disgust', 'Anger', 'Contempt'])
  t.deepEqual(Array.from(index.train.labels), [0, 1, 2, 3, 4, 5, 6, 7, 1])
  t.is(index.train.paths[2], join(root, 'Manually_Annotated_Images', '2', '2_1.jpg'))
  t.deepEqual(Array.from(index.test.labels), [0, 1, 2, 3, 4, 5, 6, 7])
  t.is(index.train.crops, undefined, 'no cropping unless asked')
  t.deepEqual(notes, ['AffectNet protocol left out 3 of 20 images: 1 None, 1 Uncertain, 1 Non-Face'])
})

test('7-class protocol leaves out Contempt too', async (t) => {
  const root = await tempDir(t)
  await writeAffectnet(root)
  const { index, notes } = await loadDataset({ path: root, format: 'affectnet', skipBad: false, classes: 7 })
  t.deepEqual(index.classNames, ['Neutral', 'Happy', 'Sad', 'Surprise', 'Fear', 'Disgust', 'Anger'])
  t.deepEqual(Array.from(index.train.labels), [0, 1, 2, 3, 4, 5, 6, 1])
  t.deepEqual(Array.from(index.test.labels), [0, 1, 2, 3, 4, 5, 6])
  t.deepEqual(notes, ['AffectNet protocol left out 5 of 20 images: 2 Contempt (7-class protocol), 1 None, 1 Uncertain, 1 Non-Face'])
})

test('crop gives each image its face box from the manifest', async (t) => {
  const root = await tempDir(t)
  await writeAffectnet(root)
  const { index } = await loadDataset({ path: root, format: 'affectnet', skipBad: false, crop: true })
  t.is(index.train.crops!.length, 9 * 4)
  t.deepEqual(Array.from(index.train.crops!.subarray(0, 4)), [3, 4, 50, 60])
  t.deepEqual(Array.from(index.test.crops!.subarray(28, 32)), [3, 4, 50, 60])
})

test('bad rows are reported with file and line: unknown codes, bad boxes (when cropping), missing images', async (t) => {
  const root = await tempDir(t)
  const training = [HEADER, row(0, 1), row(11, 1), row('x', 1), row(1, 1, [3, 4, 0, 60]), row(2, 1, [-1, 4, 5, 6]), 'short,row', row(3, 9)]
  await writeTree(root, {
    'training.csv': training.join('\n'),
    'validation.csv': [HEADER, row(0, 3)].join('\n'),
    'Manually_Annotated_Images/0/0_1.jpg': null,
    'Manually_Annotated_Images/1/1_1.jpg': null,
    'Manually_Annotated_Images/2/2_1.jpg': null,
    'Manually_Annotated_Images/0/0_3.jpg': null,
  })
  const file = join(root, 'training.csv')
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'auto', skipBad: false, crop: true }), { instanceOf: DatasetError })
  t.deepEqual(err.problems, [
    `${file}:3: unknown expression "11" for 2/11_1.jpg (AffectNet codes are 0-10)`,
    `${file}:4: unknown expression "x" for NaN/x_1.jpg (AffectNet codes are 0-10)`,
    `${file}:5: bad face box for 1/1_1.jpg (face_x, face_y >= 0, face_width, face_height >= 1): 3, 4, 0, 60`,
    `${file}:6: bad face box for 2/2_1.jpg (face_x, face_y >= 0, face_width, face_height >= 1): -1, 4, 5, 6`,
    `${file}:7: malformed line (fewer fields than the header names): "short,row"`,
    `${file}:8: missing image: ${join(root, 'Manually_Annotated_Images', '0', '3_9.jpg')}`,
  ])
  const { index, skipped } = await loadDataset({ path: root, format: 'auto', skipBad: true, crop: true })
  t.is(skipped.length, 6)
  t.deepEqual(Array.from(index.train.labels), [0])
  // Without cropping the face boxes are not read.
  const plain = await loadDataset({ path: root, format: 'auto', skipBad: true })
  t.deepEqual(Array.from(plain.index.train.labels), [0, 1, 2])
})

test('manifests in Manually_Annotated_file_lists/, images in Manually_Annotated_compressed/', async (t) => {
  const root = await tempDir(t)
  const training = [HEADER, row(0, 1), row(1, 1)]
  await writeTree(root, {
    'Manually_Annotated_file_lists/training.csv': training.join('\n'),
    'Manually_Annotated_file_lists/validation.csv': [HEADER, row(2, 1)].join('\n'),
    'Manually_Annotated_compressed/Manually_Annotated_Images/0/0_1.jpg': null,
    'Manually_Annotated_compressed/Manually_Annotated_Images/1/1_1.jpg': null,
    'Manually_Annotated_compressed/Manually_Annotated_Images/2/2_1.jpg': null,
  })
  const { index } = await loadDataset({ path: root, format: 'auto', skipBad: false })
  t.is(index.format, 'affectnet')
  t.is(index.train.paths[1], join(root, 'Manually_Annotated_compressed', 'Manually_Annotated_Images', '1', '1_1.jpg'))
})

test('folder-per-class copies: train/ and val/, classes by code or name, through the folder adapter', async (t) => {
  const byCode = await tempDir(t)
  await writeTree(byCode, {
    'train/0/a.jpg': null, 'train/1/b.jpg': null, 'train/7/c.jpg': null, 'train/8/d.jpg': null,
    'val/0/e.jpg': null, 'val/7/f.jpg': null,
  })
  const eight = await loadDataset({ path: byCode, format: 'affectnet', skipBad: false })
  t.is(eight.index.format, 'affectnet')
  t.deepEqual(eight.index.classNames, AFFECTNET_CLASSES)
  t.deepEqual(Array.from(eight.index.train.labels), [0, 1, 7])
  t.deepEqual(Array.from(eight.index.test.labels), [0, 7])
  t.is(eight.index.test.paths[0], join(byCode, 'val', '0', 'e.jpg'))
  t.deepEqual(eight.notes, ['AffectNet protocol left out 1 of 6 images: 1 None'])
  const seven = await loadDataset({ path: byCode, format: 'affectnet', skipBad: false, classes: 7 })
  t.deepEqual(Array.from(seven.index.train.labels), [0, 1])
  t.deepEqual(Array.from(seven.index.test.labels), [0])

  const byName = await tempDir(t)
  await writeTree(byName, { 'train/Happy/a.jpg': null, 'train/anger/b.jpg': null, 'train/smirk/c.jpg': null, 'val/Happy/d.jpg': null })
  const err = await t.throwsAsync(loadDataset({ path: byName, format: 'affectnet', skipBad: false }), { instanceOf: DatasetError })
  t.deepEqual(err.problems, [`${join(byName, 'train', 'smirk')}: unknown AffectNet class folder "smirk" (expected a code 0-10 or a name such as Happy)`])
  const named = await loadDataset({ path: byName, format: 'affectnet', skipBad: true })
  t.deepEqual(Array.from(named.index.train.labels), [1, 6], "Happy, anger (folders in code-point order)")
  t.deepEqual(Array.from(named.index.test.labels), [1])
  // Plain image folders accept val/ as the test split too.
  const folder = await loadDataset({ path: byName, format: 'auto', skipBad: false })
  t.is(folder.index.format, 'folder')
  t.is(folder.index.test.paths.length, 1)
})

test('crop needs the manifests; classes and crop are refused for other formats', async (t) => {
  const root = await tempDir(t)
  await writeTree(root, { 'train/0/a.jpg': null, 'test/0/b.jpg': null })
  const err = await t.throwsAsync(loadDataset({ path: root, format: 'affectnet', skipBad: false, crop: true }), { instanceOf: ManError })
  t.regex(err.message, /crop needs the face boxes/)
  const other = await t.throwsAsync(loadDataset({ path: root, format: 'auto', skipBad: false, crop: true }), { instanceOf: ManError })
  t.regex(other.message, /data\.crop cuts AffectNet images to their face boxes; this is a folder dataset/)
  const empty = await tempDir(t)
  const none = await t.throwsAsync(loadDataset({ path: empty, format: 'affectnet', skipBad: false }), { instanceOf: ManError })
  t.regex(none.message, /not an AffectNet folder/)
})
