/**
 * Typed arrays and JSON as bytes for the process group's all-gather and
 * broadcast (which carry bytes), and back.
 */
import type { BindingPrediction } from '../native/binding.ts'

export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
}

/** A copy: the bytes that arrive need not be aligned for a wider type. */
function aligned(bytes: Uint8Array, start: number, length: number): ArrayBuffer {
  return bytes.slice(start, start + length).buffer
}

export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value))
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(new TextDecoder().decode(bytes)) as T
}

/** n, pred1, pred2 and (if any) probs of one rank's part of a prediction pass. */
export function encodePrediction(p: BindingPrediction): Uint8Array {
  const n = p.pred1.length
  const probs = p.probs ?? new Float32Array(0)
  const out = new Uint8Array(4 + 8 * n + probs.byteLength)
  new DataView(out.buffer).setUint32(0, n, true)
  out.set(bytesOf(p.pred1), 4)
  out.set(bytesOf(p.pred2), 4 + 4 * n)
  out.set(bytesOf(probs), 4 + 8 * n)
  return out
}

/** The parts of every rank, in rank order, as one prediction. */
export function concatPredictions(parts: Uint8Array[], withProbs: boolean): BindingPrediction {
  const decoded = parts.map((bytes) => {
    const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true)
    return {
      pred1: new Int32Array(aligned(bytes, 4, 4 * n)),
      pred2: new Int32Array(aligned(bytes, 4 + 4 * n, 4 * n)),
      probs: new Float32Array(aligned(bytes, 4 + 8 * n, bytes.byteLength - 4 - 8 * n)),
    }
  })
  const join = <T extends Int32Array | Float32Array>(make: (n: number) => T, pick: (d: (typeof decoded)[number]) => T): T => {
    const out = make(decoded.reduce((s, d) => s + pick(d).length, 0))
    let at = 0
    for (const d of decoded) {
      out.set(pick(d), at)
      at += pick(d).length
    }
    return out
  }
  return {
    pred1: join((n) => new Int32Array(n), (d) => d.pred1),
    pred2: join((n) => new Int32Array(n), (d) => d.pred2),
    probs: withProbs ? join((n) => new Float32Array(n), (d) => d.probs) : null,
  }
}
