/**
 * A small seeded PRNG for everything the orchestration shuffles (data order,
 * validation split). Same seed, same stream, on every platform: runs are
 * reproducible and a resumed run sees the same order.
 */

/** A 32-bit integer hash with good avalanche (the finaliser of MurmurHash3). */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Derives one stream's state from a seed and any number of integer keys (epoch, purpose). */
export function streamSeed(seed: number, ...keys: number[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9)
  for (const k of keys) h = fmix32((h ^ Math.imul((k >>> 0) + 0x632be5ab, 0x9e3779b1)) >>> 0)
  return h
}

/** Returns a generator of uniform uint32 values (a Weyl sequence passed through fmix32). */
export function uint32Stream(state: number): () => number {
  let s = state >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    return fmix32(s ^ (s >>> 15) ^ 0x5bd1e995)
  }
}

/** A uniformly shuffled permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, state: number): Uint32Array {
  const next = uint32Stream(state)
  const out = new Uint32Array(n)
  for (let i = 0; i < n; i++) out[i] = i
  for (let i = n - 1; i > 0; i--) {
    // Multiply-shift keeps the draw in [0, i] with a bias below i/2^32.
    const j = Math.floor((next() * (i + 1)) / 4294967296)
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}

/** Stream identifiers, so that two uses of one seed never share a stream. */
export const STREAM_ORDER = 1
export const STREAM_VALIDATION = 2
