/**
 * Co-division (docs/method.md): the agreement of the two networks' predictions with
 * the given label splits the training set into clean, ambiguous and noisy
 * samples. One pass over typed arrays, no allocation per sample.
 */
import { ManError } from '../errors.ts'
import { argumentError, describe, expectInt32Array } from '../util/arguments.ts'
import { PARTITION_AMBIGUOUS, PARTITION_CLEAN, PARTITION_NOISY } from '../native/binding.ts'

export interface CoDivision {
  /** PARTITION_CLEAN / PARTITION_AMBIGUOUS / PARTITION_NOISY per sample. */
  codes: Uint8Array
  clean: number
  ambiguous: number
  noisy: number
}

/** No relabel for a sample (`relabelAgreed`). */
export const KEEP_LABEL = -1

/**
 * `man.relabel: 'agreed'`: for each noisy sample on whose class both
 * networks agree (a class other than its given label, since it is noisy),
 * that class; KEEP_LABEL for every other sample.
 */
export function relabelAgreed(codes: Uint8Array, pred1: Int32Array, pred2: Int32Array): Int32Array {
  const out = new Int32Array(codes.length).fill(KEEP_LABEL)
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] === PARTITION_NOISY && pred1[i] === pred2[i]) out[i] = pred1[i]!
  }
  return out
}

/**
 * What a co-division epoch's steps train on: the given labels and partition
 * codes, with each relabelled sample (not KEEP_LABEL) a clean sample of its
 * new class.
 */
export function stepTargets(labels: Int32Array, codes: Uint8Array, relabels: Int32Array | null): { labels: Int32Array; codes: Uint8Array } {
  if (relabels === null) return { labels, codes }
  const out = { labels: Int32Array.from(labels), codes: Uint8Array.from(codes) }
  for (let i = 0; i < relabels.length; i++) {
    if (relabels[i] !== KEEP_LABEL) {
      out.labels[i] = relabels[i]!
      out.codes[i] = PARTITION_CLEAN
    }
  }
  return out
}

/** Indexed by how many of the two networks predicted the given label. */
const CODE_BY_HITS = Uint8Array.of(PARTITION_NOISY, PARTITION_AMBIGUOUS, PARTITION_CLEAN)

/**
 * clean: both networks predict the label; noisy: neither does (whether or not
 * they agree with each other); ambiguous: exactly one does.
 * `out`, when given, receives the codes (and is returned as `codes`).
 */
export function coDivide(pred1: Int32Array, pred2: Int32Array, labels: Int32Array, out?: Uint8Array): CoDivision {
  expectInt32Array('coDivide', 'pred1', pred1)
  expectInt32Array('coDivide', 'pred2', pred2)
  expectInt32Array('coDivide', 'labels', labels)
  if (out !== undefined && !(out instanceof Uint8Array)) {
    throw argumentError('coDivide', `out must be a Uint8Array when given, got ${describe(out)}`)
  }
  const n = labels.length
  if (pred1.length !== n || pred2.length !== n) {
    throw new ManError(
      'ERR_MAN_SHAPE',
      `coDivide: pred1 (${pred1.length}), pred2 (${pred2.length}) and labels (${n}) must have the same length`,
    )
  }
  if (out !== undefined && out.length !== n) {
    throw new ManError('ERR_MAN_SHAPE', `coDivide: out has length ${out.length}, expected ${n}`)
  }
  const codes = out ?? new Uint8Array(n)
  // Branch-free: the sum of hits gives `clean` and `ambiguous` together with the count of double hits.
  let hitSum = 0
  let doubleHits = 0
  for (let i = 0; i < n; i++) {
    const y = labels[i]
    const hits = (pred1[i] === y ? 1 : 0) + (pred2[i] === y ? 1 : 0)
    codes[i] = CODE_BY_HITS[hits]!
    hitSum += hits
    doubleHits += hits >> 1
  }
  const ambiguous = hitSum - 2 * doubleHits
  return { codes, clean: doubleHits, ambiguous, noisy: n - doubleHits - ambiguous }
}

/**
 * Caps the noisy subset at `maxNoisy` samples (`man.noisyBound`): the excess,
 * the noisy samples whose given label the ensemble finds most likely, become
 * ambiguous. `probs` is the ensemble's softmax, N×C row-major. Changes
 * `division.codes` in place and returns the new counts.
 */
export function boundNoisy(
  division: CoDivision,
  labels: Int32Array,
  probs: Float32Array,
  numClasses: number,
  maxNoisy: number,
): CoDivision {
  const { codes } = division
  const n = codes.length
  if (labels.length !== n || probs.length !== n * numClasses) {
    throw new ManError(
      'ERR_MAN_SHAPE',
      `boundNoisy: ${n} codes need ${n} labels (got ${labels.length}) and ${n}×${numClasses} probabilities (got ${probs.length})`,
    )
  }
  const excess = division.noisy - Math.max(0, Math.floor(maxNoisy))
  if (excess <= 0) return division
  const noisy: number[] = []
  for (let i = 0; i < n; i++) if (codes[i] === PARTITION_NOISY) noisy.push(i)
  const given = (i: number) => probs[i * numClasses + labels[i]!]!
  // Most likely given label first; ties by index, so the result is deterministic.
  noisy.sort((a, b) => given(b) - given(a) || a - b)
  for (let k = 0; k < excess; k++) codes[noisy[k]!] = PARTITION_AMBIGUOUS
  return { codes, clean: division.clean, ambiguous: division.ambiguous + excess, noisy: division.noisy - excess }
}
