import test from 'ava'
import jpeg from 'jpeg-js'
import { mixSeed, Rng } from '../ts/util/prng.ts'
import { drawExpression, EXPRESSION_NAMES, mixExpressions } from '../ts/synth/expressions.ts'
import { drawFace } from '../ts/synth/face.ts'
import { encodeJpeg, usesReusableEncoder } from '../ts/synth/jpeg.ts'
import { drawLook } from '../ts/synth/look.ts'
import { RAFDB_CLASSES } from '../ts/data/rafdb.ts'

test('expression classes are RAF-DB’s, in order', (t) => {
  t.deepEqual([...EXPRESSION_NAMES], RAFDB_CLASSES)
})

test('the reusable JPEG encoder writes the same bytes as jpeg-js encode()', (t) => {
  t.true(usesReusableEncoder(), 'jpeg-js no longer defines JPEGEncoder: synthesis falls back to the slow path')
  const rng = new Rng(1)
  for (const size of [8, 33]) {
    const data = Uint8Array.from({ length: size * size * 4 }, () => rng.int(256))
    for (const q of [90, 50]) t.true(encodeJpeg({ width: size, height: size, data }, q).equals(jpeg.encode({ width: size, height: size, data }, q).data))
  }
})

/** Pixels (of 48×48) that change by more than 40 levels between two expressions on the same face. */
function changedPixels(a: number, b: number, seed: number): number {
  const size = 48
  const look = drawLook(new Rng(mixSeed(seed, 1)), size)
  const ea = drawExpression(new Rng(mixSeed(seed, 2)), a)
  const eb = drawExpression(new Rng(mixSeed(seed, 2)), b)
  const fa = drawFace(size, look, ea, new Rng(mixSeed(seed, 3)))
  const fb = drawFace(size, look, eb, new Rng(mixSeed(seed, 3)))
  let n = 0
  for (let i = 0; i < fa.length; i += 4) {
    const d = Math.max(Math.abs(fa[i]! - fb[i]!), Math.abs(fa[i + 1]! - fb[i + 1]!), Math.abs(fa[i + 2]! - fb[i + 2]!))
    if (d > 40) n++
  }
  return n
}

test('every pair of expressions draws differently on the same face', (t) => {
  for (const seed of [1, 9]) {
    for (let a = 0; a < 7; a++) {
      t.is(changedPixels(a, a, seed), 0)
      for (let b = a + 1; b < 7; b++) {
        const n = changedPixels(a, b, seed)
        t.true(n >= 8, `${EXPRESSION_NAMES[a]} vs ${EXPRESSION_NAMES[b]}, seed ${seed}: ${n} pixels`)
      }
    }
  }
})

test('a blend lies between its two expressions', (t) => {
  const rng = new Rng(4)
  const a = drawExpression(rng, 0)
  const b = drawExpression(rng, 3)
  const m = mixExpressions(a, b, 0.4)
  for (const k of Object.keys(a) as (keyof typeof a)[]) {
    t.true(Math.abs(m[k] - (0.6 * a[k] + 0.4 * b[k])) < 1e-12, k)
  }
})

test('faces are RGBA with opaque alpha, and vary with the look', (t) => {
  const e = drawExpression(new Rng(1), 6)
  const f1 = drawFace(24, drawLook(new Rng(1), 24), e, new Rng(0))
  const f2 = drawFace(24, drawLook(new Rng(2), 24), e, new Rng(0))
  t.is(f1.length, 24 * 24 * 4)
  for (let i = 3; i < f1.length; i += 4) t.is(f1[i], 255)
  t.false(Buffer.from(f1).equals(Buffer.from(f2)))
})
