/** The order training samples are visited in: a seeded permutation per (seed, epoch). */
import { mixSeed, permutation, STREAM_ORDER } from '../util/prng.ts'

export interface EpochOrder {
  /** Positions 0..n-1 of the training samples, shuffled. */
  order: Uint32Array
  batches: number
  batchSize: number
}

/** The last partial batch is kept unless it would hold a single sample (BatchNorm cannot train on one). */
export function epochOrder(n: number, batchSize: number, seed: number, epoch: number): EpochOrder {
  const order = permutation(n, mixSeed(seed, STREAM_ORDER, epoch))
  const rest = n % batchSize
  const batches = Math.floor(n / batchSize) + (rest >= 2 ? 1 : 0)
  return { order, batches, batchSize }
}

/** Positions of batch b (0-based), a view into `order`. */
export function batchPositions(plan: EpochOrder, b: number): Uint32Array {
  const start = b * plan.batchSize
  return plan.order.subarray(start, Math.min(plan.order.length, start + plan.batchSize))
}

export interface OrderedSamples {
  indices: Uint32Array
  labels: Int32Array
  /** Partition codes in the same order; null outside co-division epochs. */
  codes: Uint8Array | null
}

/**
 * Dataset indices, labels and (when given) partition codes of the training
 * samples in the epoch's visiting order: batch b is then positions
 * [b·batchSize, (b+1)·batchSize) of each array.
 */
export function orderedSamples(
  order: Uint32Array,
  members: Uint32Array,
  labels: Int32Array,
  codes: Uint8Array | null,
): OrderedSamples {
  const n = order.length
  const out: OrderedSamples = {
    indices: new Uint32Array(n),
    labels: new Int32Array(n),
    codes: codes === null ? null : new Uint8Array(n),
  }
  for (let i = 0; i < n; i++) {
    const pos = order[i]!
    out.indices[i] = members[pos]!
    out.labels[i] = labels[pos]!
    if (out.codes !== null) out.codes[i] = codes![pos]!
  }
  return out
}
