/**
 * Symmetric label noise (the FER benchmark protocol) and scoring of the
 * co-division's noisy subset against the known flips.
 */
import { ManError } from '../errors.ts'
import { argumentError, describe, expectInt32Array } from '../util/arguments.ts'
import { mixSeed, Rng } from '../util/prng.ts'

export interface InjectedNoise {
  /** The noisy labels (a copy; the input is not modified). */
  labels: Int32Array
  /** Indices of the samples whose label was changed, ascending. */
  flipped: Uint32Array
}

function configError(message: string): ManError {
  return new ManError('ERR_MAN_CONFIG', message)
}

/** Changes round(rate·N) seeded-random labels, each to a uniformly drawn different class. */
export function injectNoise(labels: Int32Array, numClasses: number, rate: number, seed: number): InjectedNoise {
  expectInt32Array('injectNoise', 'labels', labels)
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw configError(`injectNoise: numClasses must be an integer >= 2, got ${numClasses}`)
  }
  if (!(rate >= 0 && rate < 1)) {
    throw configError(`injectNoise: rate must be in [0, 1), got ${rate}`)
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw configError(`injectNoise: seed must be an integer in [0, 2^32), got ${seed}`)
  }
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!
    if (y < 0 || y >= numClasses) {
      throw configError(`injectNoise: labels[${i}] = ${y} is outside [0, ${numClasses})`)
    }
  }
  // A seed of its own keeps the flips independent of any other stream drawn from the same user seed.
  const rng = new Rng(mixSeed(seed, 0x6e6f6973))
  const flipped = rng.sample(labels.length, Math.round(rate * labels.length))
  const out = Int32Array.from(labels)
  for (const i of flipped) {
    // Draw from the C-1 other classes, then step over the original one.
    const r = rng.int(numClasses - 1)
    out[i] = r >= out[i]! ? r + 1 : r
  }
  return { labels: out, flipped }
}

export interface NoiseDetection {
  /** |noisy ∩ flipped| / |noisy| (0 when the noisy subset is empty). */
  precision: number
  /** |noisy ∩ flipped| / |flipped| (0 when nothing was flipped). */
  recall: number
  /** How the flipped samples spread over the three subsets. */
  flippedIn: { clean: number; ambiguous: number; noisy: number }
}

/** Scores partition codes (0 clean, 1 ambiguous, 2 noisy) against a 0/1 mask of flipped samples. */
export function noiseDetection(codes: Uint8Array, flippedMask: Uint8Array): NoiseDetection {
  for (const [name, value] of [['codes', codes], ['flippedMask', flippedMask]] as const) {
    if (!(value instanceof Uint8Array)) throw argumentError('noiseDetection', `${name} must be a Uint8Array, got ${describe(value)}`)
  }
  if (codes.length !== flippedMask.length) {
    throw configError(
      `noiseDetection: codes (${codes.length}) and flippedMask (${flippedMask.length}) differ in length`,
    )
  }
  const flippedIn = { clean: 0, ambiguous: 0, noisy: 0 }
  let noisy = 0
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!
    const flip = flippedMask[i]!
    if (code > 2) throw configError(`noiseDetection: codes[${i}] = ${code} is not 0, 1 or 2`)
    if (flip > 1) throw configError(`noiseDetection: flippedMask[${i}] = ${flip} is not 0 or 1`)
    if (code === 2) noisy++
    if (flip === 1) {
      if (code === 0) flippedIn.clean++
      else if (code === 1) flippedIn.ambiguous++
      else flippedIn.noisy++
    }
  }
  const flippedTotal = flippedIn.clean + flippedIn.ambiguous + flippedIn.noisy
  return {
    precision: noisy === 0 ? 0 : flippedIn.noisy / noisy,
    recall: flippedTotal === 0 ? 0 : flippedIn.noisy / flippedTotal,
    flippedIn,
  }
}

/** The 0/1 mask of `flipped` indices over n samples (the shape noiseDetection takes). */
export function flippedMask(flipped: ArrayLike<number>, n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0) throw argumentError('flippedMask', `n must be a non-negative integer, got ${describe(n)}`)
  if (typeof flipped !== 'object' || flipped === null || typeof flipped.length !== 'number') {
    throw argumentError('flippedMask', `flipped must be an array of indices, got ${describe(flipped)}`)
  }
  const mask = new Uint8Array(n)
  for (let i = 0; i < flipped.length; i++) {
    const j = flipped[i]!
    if (!Number.isInteger(j) || j < 0 || j >= n) {
      throw configError(`flippedMask: flipped[${i}] = ${j} is outside [0, ${n})`)
    }
    mask[j] = 1
  }
  return mask
}
