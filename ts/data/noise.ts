/**
 * Symmetric label noise (the FER benchmark protocol) and scoring of the
 * co-division's noisy subset against the known flips.
 * STUB: being written (issue: datasets and CLI).
 */
import { ManError } from '../errors.ts'

export interface InjectedNoise {
  /** The noisy labels (a copy; the input is not modified). */
  labels: Int32Array
  /** Indices of the samples whose label was changed, ascending. */
  flipped: Uint32Array
}

/** Changes round(rate·N) seeded-random labels, each to a uniformly drawn different class. */
export function injectNoise(labels: Int32Array, numClasses: number, rate: number, seed: number): InjectedNoise {
  throw new ManError('ERR_MAN_DATA', `injectNoise not implemented yet (${labels.length}, ${numClasses}, ${rate}, ${seed})`)
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
  throw new ManError('ERR_MAN_DATA', `noiseDetection not implemented yet (${codes.length}, ${flippedMask.length})`)
}
