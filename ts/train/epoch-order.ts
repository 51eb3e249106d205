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
