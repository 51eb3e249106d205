/**
 * A small seeded PRNG (mulberry32) and the few draws the data tools need.
 * Math.random cannot be seeded, and noise injection and the synthetic set must
 * be reproducible bit for bit from a seed.
 */

/** Mixes integers into one well-spread 32-bit seed (murmur3's finaliser per step). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
  }
  return h >>> 0
}

export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next()
  }

  /** Standard normal (Box–Muller; one value per call keeps the stream simple). */
  normal(): number {
    const u = 1 - this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next())
  }

  /** k distinct indices of [0, n), ascending (partial Fisher–Yates). */
  sample(n: number, k: number): Uint32Array {
    const perm = new Uint32Array(n)
    for (let i = 0; i < n; i++) perm[i] = i
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i)
      const t = perm[i]!
      perm[i] = perm[j]!
      perm[j] = t
    }
    return perm.slice(0, k).sort()
  }

  /** Shuffles in place (Fisher–Yates). */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = a[i]
      a[i] = a[j]
      a[j] = t
    }
    return a
  }
}

/** A uniformly shuffled permutation of 0..n-1, from a seed (Fisher–Yates). */
export function permutation(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n)
  for (let i = 0; i < n; i++) out[i] = i
  return new Rng(seed).shuffle(out)
}

/** Stream identifiers, so that two uses of one seed never share a stream. */
export const STREAM_ORDER = 1
export const STREAM_VALIDATION = 2
export const STREAM_BALANCED = 3
