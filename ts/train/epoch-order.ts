/**
 * The order training samples are visited in, a pure function of (seed,
 * epoch): a seeded permutation, or with `balanceBy` a class-balanced draw.
 */
import { mixSeed, permutation, Rng, STREAM_BALANCED, STREAM_ORDER } from '../util/prng.ts'

export interface EpochOrder {
  /** Positions 0..n-1 of the training samples, shuffled; with a balanced draw, a position may repeat. */
  order: Uint32Array
  batches: number
  batchSize: number
}

/** The last partial batch is kept unless it would hold a single sample (BatchNorm cannot train on one). */
export function epochOrder(n: number, batchSize: number, seed: number, epoch: number, balanceBy?: Int32Array): EpochOrder {
  const order = balanceBy === undefined ? permutation(n, mixSeed(seed, STREAM_ORDER, epoch)) : balancedOrder(balanceBy, seed, epoch)
  const rest = n % batchSize
  const batches = Math.floor(n / batchSize) + (rest >= 2 ? 1 : 0)
  return { order, batches, batchSize }
}

/**
 * n draws (n = labels.length) with every class present drawn n/K times (the
 * remainder going to seeded classes), then shuffled. A class's draws walk
 * through successive seeded permutations of its samples, so each of them is
 * drawn floor or ceil((n/K)/size) times: as few repeats as balance allows.
 * Repeats of a sample within one epoch get the same augmented view (views are
 * a function of seed, epoch and sample).
 */
export function balancedOrder(labels: Int32Array, seed: number, epoch: number): Uint32Array {
  const n = labels.length
  const byClass = new Map<number, number[]>()
  labels.forEach((y, i) => {
    const members = byClass.get(y)
    if (members) members.push(i)
    else byClass.set(y, [i])
  })
  const classes = [...byClass.keys()].sort((a, b) => a - b)
  const rng = new Rng(mixSeed(seed, STREAM_BALANCED, epoch))
  const quota = classes.map(() => Math.floor(n / classes.length))
  for (const c of rng.sample(classes.length, n % classes.length)) quota[c]!++
  const order = new Uint32Array(n)
  let at = 0
  classes.forEach((y, c) => {
    const members = Uint32Array.from(byClass.get(y)!)
    for (let left = quota[c]!; left > 0; ) {
      rng.shuffle(members)
      const take = Math.min(left, members.length)
      order.set(members.subarray(0, take), at)
      at += take
      left -= take
    }
  })
  return rng.shuffle(order)
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
