/**
 * Which part of a batch or a list is a rank's: contiguous, in rank order,
 * sizes differing by at most one. Concatenating every rank's part in rank
 * order gives back the whole, which is how gathered predictions line up.
 */

export interface Range {
  start: number
  end: number
}

export function shardRange(n: number, rank: number, worldSize: number): Range {
  return { start: Math.floor((rank * n) / worldSize), end: Math.floor(((rank + 1) * n) / worldSize) }
}

export interface BatchArrays {
  indices: Uint32Array
  labels: Int32Array
  codes: Uint8Array | null
}

/** This rank's samples of a global batch (views, no copies). */
export function shardBatch<B extends BatchArrays>(batch: B, rank: number, worldSize: number): B {
  const { start, end } = shardRange(batch.indices.length, rank, worldSize)
  return {
    ...batch,
    indices: batch.indices.subarray(start, end),
    labels: batch.labels.subarray(start, end),
    codes: batch.codes?.subarray(start, end) ?? null,
  }
}
