import test from 'ava'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { flippedMask, injectNoise, noiseDetection } from '../ts/data/noise.ts'
import { readNoiseRecord, writeNoiseRecord } from '../ts/data/noise-file.ts'
import { ManError } from '../ts/errors.ts'
import { tempDir } from './helpers/temp-dir.ts'

function cyclicLabels(n: number, c: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i % c)
}

test('flips exactly round(rate·N) labels, each to a different class, and leaves the rest', (t) => {
  const labels = cyclicLabels(1001, 7)
  const before = Int32Array.from(labels)
  for (const rate of [0.1, 0.2, 0.3, 0.45]) {
    const { labels: noisy, flipped } = injectNoise(labels, 7, rate, 42)
    t.is(flipped.length, Math.round(rate * 1001))
    const set = new Set(flipped)
    for (let i = 0; i < labels.length; i++) {
      if (set.has(i)) t.not(noisy[i], labels[i])
      else t.is(noisy[i], labels[i])
      t.true(noisy[i]! >= 0 && noisy[i]! < 7)
    }
    for (let i = 1; i < flipped.length; i++) t.true(flipped[i]! > flipped[i - 1]!)
  }
  t.deepEqual(labels, before, 'the input is not modified')
})

test('new classes spread uniformly over the other classes', (t) => {
  const n = 70000
  const labels = new Int32Array(n) // all class 0
  const { labels: noisy, flipped } = injectNoise(labels, 7, 0.6, 7)
  const counts = new Array(7).fill(0)
  for (const i of flipped) counts[noisy[i]!]++
  t.is(counts[0], 0)
  const expected = flipped.length / 6
  for (let c = 1; c < 7; c++) t.true(Math.abs(counts[c] - expected) < 0.05 * expected, `class ${c}: ${counts[c]} vs ${expected}`)
  // and which samples get flipped is spread over the whole range
  const firstHalf = flipped.filter((i) => i < n / 2).length
  t.true(Math.abs(firstHalf - flipped.length / 2) < 0.03 * flipped.length)
})

test('deterministic per seed; different seeds differ; rate 0 is the identity', (t) => {
  const labels = cyclicLabels(500, 5)
  const a = injectNoise(labels, 5, 0.2, 1)
  const b = injectNoise(labels, 5, 0.2, 1)
  const c = injectNoise(labels, 5, 0.2, 2)
  t.deepEqual(a, b)
  t.notDeepEqual(a.flipped, c.flipped)
  const zero = injectNoise(labels, 5, 0, 3)
  t.deepEqual(zero.labels, labels)
  t.not(zero.labels, labels)
  t.is(zero.flipped.length, 0)
})

test('two classes: every flip goes to the other one', (t) => {
  const { labels, flipped } = injectNoise(cyclicLabels(100, 2), 2, 0.5, 9)
  for (const i of flipped) t.is(labels[i], 1 - (i % 2))
})

test('bad arguments are ERR_MAN_CONFIG naming the argument', (t) => {
  const labels = cyclicLabels(10, 3)
  const cases: [() => unknown, RegExp][] = [
    [() => injectNoise(labels, 1, 0.1, 0), /numClasses/],
    [() => injectNoise(labels, 2.5, 0.1, 0), /numClasses/],
    [() => injectNoise(labels, 3, 1, 0), /rate/],
    [() => injectNoise(labels, 3, -0.1, 0), /rate/],
    [() => injectNoise(labels, 3, Number.NaN, 0), /rate/],
    [() => injectNoise(labels, 3, 0.1, -1), /seed/],
    [() => injectNoise(Int32Array.of(0, 3), 3, 0.1, 0), /labels\[1\] = 3/],
    [() => noiseDetection(new Uint8Array(2), new Uint8Array(3)), /codes \(2\) and flippedMask \(3\)/],
    [() => noiseDetection(Uint8Array.of(3), Uint8Array.of(0)), /codes\[0\] = 3/],
    [() => noiseDetection(Uint8Array.of(0), Uint8Array.of(2)), /flippedMask\[0\] = 2/],
  ]
  for (const [run, re] of cases) {
    const err = t.throws(run, { instanceOf: ManError })
    t.is(err?.code, 'ERR_MAN_CONFIG')
    t.regex(err?.message ?? '', re)
  }
})

test('noiseDetection on hand-worked cases', (t) => {
  // samples:       0  1  2  3  4  5  6  7
  const codes = Uint8Array.of(2, 2, 2, 0, 1, 0, 2, 1)
  const flipped = Uint8Array.of(1, 1, 0, 1, 1, 0, 0, 0)
  t.deepEqual(noiseDetection(codes, flipped), {
    precision: 2 / 4,
    recall: 2 / 4,
    flippedIn: { clean: 1, ambiguous: 1, noisy: 2 },
  })
  t.deepEqual(noiseDetection(Uint8Array.of(0, 1), Uint8Array.of(1, 0)), {
    precision: 0,
    recall: 0,
    flippedIn: { clean: 1, ambiguous: 0, noisy: 0 },
  })
  t.deepEqual(noiseDetection(Uint8Array.of(2, 2, 0), Uint8Array.of(0, 0, 0)), {
    precision: 0,
    recall: 0,
    flippedIn: { clean: 0, ambiguous: 0, noisy: 0 },
  })
  t.deepEqual(noiseDetection(Uint8Array.of(2, 0, 2), Uint8Array.of(1, 0, 1)).precision, 1)
})

test('flippedMask marks the flipped indices and rejects out-of-range ones', (t) => {
  t.deepEqual(flippedMask(Uint32Array.of(0, 3), 5), Uint8Array.of(1, 0, 0, 1, 0))
  t.throws(() => flippedMask([5], 5), { message: /flipped\[0\] = 5/ })
})

test('the noise record round-trips through JSON and leaves no temp file', async (t) => {
  const dir = tempDir(t)
  const labels = cyclicLabels(50, 7)
  const { flipped } = injectNoise(labels, 7, 0.2, 5)
  const file = join(dir, 'noise.json')
  await writeNoiseRecord(file, { numClasses: 7, rate: 0.2, seed: 5, flipped, trueLabels: labels })
  t.deepEqual(await readNoiseRecord(file), { numClasses: 7, rate: 0.2, seed: 5, flipped, trueLabels: labels })
  t.deepEqual(await readdir(dir), ['noise.json'])
  await writeNoiseRecord(file, { numClasses: 7, rate: 0, seed: 5, flipped: new Uint32Array(0) })
  t.deepEqual(await readNoiseRecord(file), { numClasses: 7, rate: 0, seed: 5, flipped: new Uint32Array(0) })
})

test('a corrupt noise record names the file and the field', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'noise.json')
  const { writeFile } = await import('node:fs/promises')
  await writeFile(file, JSON.stringify({ version: 1, numClasses: 7, rate: 0.2, seed: 1, flipped: [3, 2] }))
  const err = await t.throwsAsync(readNoiseRecord(file), { instanceOf: ManError })
  t.is(err.message, `${file}: flipped must be strictly ascending`)
  await writeFile(file, '{')
  await t.throwsAsync(readNoiseRecord(file), { message: new RegExp(`^${file}: cannot read the noise record`) })
})
