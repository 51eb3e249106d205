/** The real addon on the new data paths: FERPlus's in-memory PNGs, AffectNet's face-box crops. */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import test from 'ava'

import { encodeGreyPng } from '../../ts/data/png.ts'
import { callNative, callNativeSync } from '../../ts/errors.ts'
import { getBinding } from '../../ts/native/index.ts'
import { train } from '../../ts/train/train.ts'
import { tempDir, writeTree } from '../fixtures-helpers/data-trees.ts'
import { ferplusFiles, type FerRow } from '../fixtures-helpers/fer-files.ts'

const MEAN = [0.485, 0.456, 0.406]
const STD = [0.229, 0.224, 0.225]
const options = { imageSize: 16, seed: 1, cacheBytes: 1 << 20, threads: 1 }

/** Every value of a test view, per channel, for an image whose pixels are all `grey`. */
function expectedChannel(grey: number, c: number): number {
  return (grey / 255 - MEAN[c]!) / STD[c]!
}

function channelRange(view: Float32Array, c: number, side: number): [number, number] {
  const ch = view.subarray(c * side * side, (c + 1) * side * side)
  return [Math.min(...ch), Math.max(...ch)]
}

/** An 8×6 grey image: columns 0-3 black, 4-7 at 200. */
function halves(): Buffer {
  const pixels = Uint8Array.from({ length: 48 }, (_, i) => (i % 8 < 4 ? 0 : 200))
  return encodeGreyPng(pixels, 8, 6)
}

test('a FERPlus-style grey 48x48 PNG from memory decodes to three equal channels', async (t) => {
  const b = getBinding()
  const png = encodeGreyPng(new Uint8Array(48 * 48).fill(90), 48, 48)
  const ds = callNativeSync(() => b.Dataset.fromBuffers([png], ['fer0000000.png'], options))
  t.deepEqual(await callNative(() => ds.scan()), [])
  const view = await callNative(() => ds.views(Uint32Array.of(0), 'test', 0))
  for (let c = 0; c < 3; c++) {
    const [lo, hi] = channelRange(view, c, 16)
    t.true(Math.abs(lo - expectedChannel(90, c)) < 1e-5 && Math.abs(hi - expectedChannel(90, c)) < 1e-5, `channel ${c}: ${lo}..${hi}`)
  }
})

test('fromPaths with crops keeps only the face box; width 0 keeps the whole image', async (t) => {
  const b = getBinding()
  const dir = await tempDir(t)
  const file = join(dir, 'face.png')
  await writeFile(file, halves())
  const ds = callNativeSync(() => b.Dataset.fromPaths([file, file], { ...options, crops: [4, 0, 4, 6, 0, 0, 0, 0] }))
  t.deepEqual(await callNative(() => ds.scan()), [])
  const view = await callNative(() => ds.views(Uint32Array.of(0, 1), 'test', 0))
  const per = 3 * 16 * 16
  const [lo, hi] = channelRange(view.subarray(0, per), 0, 16)
  t.true(Math.abs(lo - expectedChannel(200, 0)) < 1e-5 && Math.abs(hi - expectedChannel(200, 0)) < 1e-5, `cropped: ${lo}..${hi}`)
  const [wlo, whi] = channelRange(view.subarray(per), 0, 16)
  t.true(wlo < expectedChannel(50, 0) && whi > expectedChannel(150, 0), `whole image: ${wlo}..${whi}`)
})

test('a face box outside the image is a decode failure naming the file; a wrong crops length is refused', async (t) => {
  const b = getBinding()
  const dir = await tempDir(t)
  const file = join(dir, 'face.png')
  await writeFile(file, halves())
  const ds = callNativeSync(() => b.Dataset.fromPaths([file], { ...options, crops: [9, 0, 4, 4] }))
  const failures = await callNative(() => ds.scan())
  t.is(failures.length, 1)
  t.regex(failures[0]!.message, /ERR_MAN_DECODE: .*face\.png.*face box x=9 y=0 width=4 height=4 lies outside the 8x6 image/)
  const err = t.throws(() => callNativeSync(() => b.Dataset.fromPaths([file], { ...options, crops: [0, 0, 4] })))
  t.regex(err!.message, /crops has 3 numbers for 1 images; it needs 4 per image/)
  const buffers = t.throws(() => callNativeSync(() => b.Dataset.fromBuffers([halves()], ['x.png'], { ...options, crops: [0, 0, 4, 4] })))
  t.regex(buffers!.message, /crops applies to fromPaths only/)
})

test('one epoch on a tiny FERPlus set, pixels from the CSV, PublicTest selecting the best epoch', async (t) => {
  const root = await tempDir(t)
  const rows: FerRow[] = Array.from({ length: 14 }, (_, i) => {
    const usage = i < 8 ? 'Training' : i < 11 ? 'PublicTest' : 'PrivateTest'
    const votes = new Array(10).fill(0)
    votes[i % 3] = 8
    votes[9] = 2
    return [usage, `fer${String(i).padStart(7, '0')}.png`, votes, 40 + 60 * (i % 3)]
  })
  await writeTree(root, ferplusFiles(rows))
  const result = await train({
    data: { path: root },
    train: { epochs: 1, warmup: 1, batchSize: 4, imageSize: 16, seed: 1 },
    runtime: { device: 'cpu', threads: 1, dataThreads: 1 },
    out: join(root, 'run'),
  })
  t.is(result.epochsCompleted, 1)
  t.is(result.best?.selectedBy, 'validation')
  t.is(result.history[0]!.samples, 8)
  t.is(result.history[0]!.validation?.size, 3)
  t.is(result.history[0]!.test.size, 3)
})
