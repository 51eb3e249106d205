import test from 'ava'
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import jpeg from 'jpeg-js'
import { loadDataset, RAFDB_CLASSES } from '../ts/data/index.ts'
import { readTruthFile } from '../ts/data/truth.ts'
import { ManError } from '../ts/errors.ts'
import { synthesize } from '../ts/synth/index.ts'
import { tempDir, writeTree } from './fixtures-helpers/data-trees.ts'

async function hashTree(root: string): Promise<string> {
  const files = (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort()
  const h = createHash('sha256')
  for (const f of files) h.update(relative(root, f)).update('\0').update(await readFile(f)).update('\0')
  return h.digest('hex')
}

const SMALL = { train: 70, test: 21, size: 32, noiseRate: 0.3, ambiguousRate: 0.2 }

test('the same seed gives byte-identical files; another seed does not', async (t) => {
  const dir = await tempDir(t, 'man-fer-synth-')
  const a = await synthesize({ ...SMALL, out: join(dir, 'a'), seed: 5 })
  await synthesize({ ...SMALL, out: join(dir, 'b'), seed: 5 })
  await synthesize({ ...SMALL, out: join(dir, 'c'), seed: 6 })
  t.is(a.out, join(dir, 'a'))
  const [ha, hb, hc] = await Promise.all(['a', 'b', 'c'].map((s) => hashTree(join(dir, s))))
  t.is(ha, hb)
  t.not(ha, hc)
  const images = await readdir(join(dir, 'a', 'Image', 'aligned'))
  t.is(images.length, 91)
  const one = await readFile(join(dir, 'a', 'Image', 'aligned', 'train_00001_aligned.jpg'))
  const other = await readFile(join(dir, 'c', 'Image', 'aligned', 'train_00001_aligned.jpg'))
  t.false(one.equals(other))
})

test('label file, truth.json and the requested noise and ambiguity agree', async (t) => {
  const out = join(await tempDir(t, 'man-fer-synth-'), 'set')
  const summary = await synthesize({ ...SMALL, out, seed: 11 })
  const lines = (await readFile(join(out, 'EmoLabel', 'list_patition_label.txt'), 'utf8')).trimEnd().split('\n')
  const truth = await readTruthFile(join(out, 'truth.json'))
  t.deepEqual(truth.classNames, RAFDB_CLASSES)
  t.is(lines.length, 91)
  t.is(truth.images.length, 91)
  truth.images.forEach((im, i) => {
    const [name, label] = lines[i]!.split(' ')
    t.is(im.path, `Image/aligned/${name!.replace('.jpg', '_aligned.jpg')}`)
    t.is(Number(label), im.givenLabel + 1)
    t.is(im.split, i < 70 ? 'train' : 'test')
    if (im.blended) {
      t.is(im.blendClasses.length, 2)
      t.is(im.blendClasses[0], im.trueLabel)
      t.not(im.blendClasses[1], im.trueLabel)
    } else t.deepEqual(im.blendClasses, [])
  })
  const train = truth.images.filter((im) => im.split === 'train')
  const test_ = truth.images.filter((im) => im.split === 'test')
  const flipped = train.filter((im) => im.givenLabel !== im.trueLabel).length
  t.is(flipped, Math.round(0.3 * 70))
  t.is(summary.flipped, flipped)
  t.true(test_.every((im) => im.givenLabel === im.trueLabel), 'no noise on the test split')
  t.is(train.filter((im) => im.blended).length, Math.round(0.2 * 70))
  t.is(test_.filter((im) => im.blended).length, Math.round(0.2 * 21))
  t.deepEqual(summary.blended, { train: 14, test: 4 })
  // Classes are balanced: 70 training images, 10 of each true class.
  for (let c = 0; c < 7; c++) t.is(train.filter((im) => im.trueLabel === c).length, 10)
})

test('the RAF-DB adapter loads the set, with its truth', async (t) => {
  const out = join(await tempDir(t, 'man-fer-synth-'), 'set')
  await synthesize({ ...SMALL, out, seed: 3 })
  const truth = await readTruthFile(join(out, 'truth.json'))
  const { index, skipped } = await loadDataset({ path: out, format: 'auto', skipBad: false })
  t.deepEqual(skipped, [])
  t.is(index.format, 'synthetic')
  t.deepEqual(index.classNames, RAFDB_CLASSES)
  t.is(index.train.paths.length, 70)
  t.is(index.test.paths.length, 21)
  const train = truth.images.filter((im) => im.split === 'train')
  t.deepEqual(Array.from(index.train.labels), train.map((im) => im.givenLabel))
  t.deepEqual(Array.from(index.trueTrainLabels ?? []), train.map((im) => im.trueLabel))
  t.deepEqual(Array.from(index.ambiguousTrain ?? []), train.map((im) => (im.blended ? 1 : 0)))
  const decoded = jpeg.decode(await readFile(index.test.paths[0]!), { useTArray: true })
  t.is(decoded.width, 32)
  t.is(decoded.height, 32)
})

test('the same truth is found when the set is loaded with bad entries skipped', async (t) => {
  const out = join(await tempDir(t, 'man-fer-synth-'), 'set')
  await synthesize({ ...SMALL, train: 14, test: 7, out, seed: 4 })
  const file = join(out, 'EmoLabel', 'list_patition_label.txt')
  const text = await readFile(file, 'utf8')
  await writeTree(out, { 'EmoLabel/list_patition_label.txt': `train_99999.jpg 1\n${text}` })
  const { index, skipped } = await loadDataset({ path: out, format: 'rafdb', skipBad: true })
  t.is(skipped.length, 1)
  t.regex(skipped[0]!, /list_patition_label\.txt:1: missing image/)
  t.is(index.trueTrainLabels?.length, 14)
})

test('bad options are ERR_MAN_CONFIG naming each option; a non-empty out is refused', async (t) => {
  const dir = await tempDir(t, 'man-fer-synth-')
  const err = await t.throwsAsync(synthesize({ out: join(dir, 'x'), train: 0, size: 8, noiseRate: 1, ambiguousRate: -1, seed: 1.5 }), {
    instanceOf: ManError,
  })
  t.is(err.code, 'ERR_MAN_CONFIG')
  for (const name of ['train', 'size', 'noiseRate', 'ambiguousRate', 'seed']) t.true(err.message.includes(`option ${name}:`), name)
  await writeTree(dir, { 'y/keep.txt': 'x' })
  const busy = await t.throwsAsync(synthesize({ out: join(dir, 'y'), train: 7, test: 7 }), { instanceOf: ManError })
  t.is(busy.message, `Invalid value for option out: ${join(dir, 'y')} exists and is not empty`)
})
