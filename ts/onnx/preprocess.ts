/**
 * man-fer's test view in TypeScript, for running an exported model without
 * the addon: decode (JPEG, PNG) to 8-bit RGB, resize the whole image to
 * side × side with PIL's bilinear filter, normalise to float32 CHW. It follows
 * crates/man-core/src/data/{image,resize,normalise,views}.rs step by step in
 * float32 arithmetic (Math.fround), so that for the same decoded pixels the
 * values are the addon's, bit for bit.
 */
import jpeg from 'jpeg-js'
import { PNG } from 'pngjs'

import { ManError } from '../errors.ts'

/** ImageNet statistics (crates/man-core/src/data/normalise.rs). */
export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406]
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225]

const f = Math.fround

export interface Rgb8 {
  width: number
  height: number
  /** width × height × 3 bytes, row-major, interleaved. */
  data: Uint8Array
}

/** A JPEG whose last scan has no end-of-image marker after it was cut off; the addon refuses it too. */
function isTruncatedJpeg(bytes: Uint8Array): boolean {
  const last = (marker: number) => {
    for (let i = bytes.length - 2; i >= 0; i--) if (bytes[i] === 0xff && bytes[i + 1] === marker) return i
    return -1
  }
  const sos = last(0xda)
  const eoi = last(0xd9)
  return sos !== -1 && eoi < sos
}

function dropAlpha(rgba: Uint8Array, width: number, height: number): Rgb8 {
  const data = new Uint8Array(width * height * 3)
  for (let i = 0, j = 0; j < data.length; i += 4, j += 3) {
    data[j] = rgba[i]!
    data[j + 1] = rgba[i + 1]!
    data[j + 2] = rgba[i + 2]!
  }
  return { width, height, data }
}

/** Decodes a JPEG or PNG to 8-bit RGB; `name` labels any error. */
export function decodeRgb8(bytes: Uint8Array, name: string): Rgb8 {
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47
  let image: Rgb8
  try {
    if (isJpeg) {
      if (isTruncatedJpeg(bytes)) throw new Error('truncated JPEG (no end-of-image marker after the last scan)')
      const d = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true })
      image = dropAlpha(d.data, d.width, d.height)
    } else if (isPng) {
      const d = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      image = dropAlpha(d.data, d.width, d.height)
    } else {
      throw new Error('not a JPEG or PNG image')
    }
  } catch (err) {
    throw new ManError('ERR_MAN_DECODE', `${name}: ${(err as Error).message}`, { cause: err })
  }
  if (image.width === 0 || image.height === 0) throw new ManError('ERR_MAN_DECODE', `${name}: image has no pixels`)
  return image
}

/** Per output pixel: the first input index and `taps` float32 weights summing to 1 (PIL's bilinear filter). */
interface Taps {
  start: Int32Array
  weights: Float32Array
  taps: number
}

function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize
  const support = Math.max(scale, 1)
  const n = Math.min(Math.ceil(support) * 2 + 1, inSize)
  const start = new Int32Array(outSize)
  const weights = new Float32Array(outSize * n)
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale
    const lo = Math.max(Math.trunc(center - support + 0.5), 0)
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize)
    // The window is shifted to lie inside the input; its weights move with it.
    const first = Math.min(lo, inSize - n)
    let total = 0
    for (let i = 0; i < n; i++) {
      const pos = first + i
      if (pos >= lo && pos < hi) {
        const v = Math.max(1 - Math.abs((pos - center + 0.5) / support), 0)
        weights[o * n + i] = v
        total += v
      }
    }
    if (total > 0) {
      const inv = f(1 / total)
      for (let i = 0; i < n; i++) weights[o * n + i] = f(weights[o * n + i]! * inv)
    }
    start[o] = first
  }
  return { start, weights, taps: n }
}

/**
 * The test view: `img` resized to side × side and normalised,
 * (v/255 − mean)/std as the addon computes it (v·scale + bias in float32),
 * written as CHW into `out` at `offset`.
 */
export function testView(
  img: Rgb8,
  side: number,
  out: Float32Array,
  offset = 0,
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): void {
  const { width: w, height: h, data } = img
  const ht = taps(w, side)
  const vt = taps(h, side)
  // Horizontal pass: every input row to `side` pixels, float32 HWC.
  const tmp = new Float32Array(h * side * 3)
  for (let y = 0; y < h; y++) {
    for (let o = 0; o < side; o++) {
      const base = (y * w + ht.start[o]!) * 3
      let r = 0
      let g = 0
      let b = 0
      for (let i = 0; i < ht.taps; i++) {
        const wt = ht.weights[o * ht.taps + i]!
        const p = base + i * 3
        r = f(r + f(wt * data[p]!))
        g = f(g + f(wt * data[p + 1]!))
        b = f(b + f(wt * data[p + 2]!))
      }
      const t = (y * side + o) * 3
      tmp[t] = r
      tmp[t + 1] = g
      tmp[t + 2] = b
    }
  }
  const scale = [0, 1, 2].map((c) => f(1 / f(255 * f(std[c]!))))
  const bias = [0, 1, 2].map((c) => f(-f(mean[c]!) / f(std[c]!)))
  const plane = side * side
  const rowLen = side * 3
  const acc = new Float32Array(rowLen)
  for (let o = 0; o < side; o++) {
    acc.fill(0)
    for (let i = 0; i < vt.taps; i++) {
      const wt = vt.weights[o * vt.taps + i]!
      if (wt === 0) continue
      const row = (vt.start[o]! + i) * rowLen
      for (let k = 0; k < rowLen; k++) acc[k] = f(acc[k]! + f(wt * tmp[row + k]!))
    }
    for (let x = 0; x < side; x++) {
      for (let c = 0; c < 3; c++) {
        // Clamped like PIL's round trip through u8 would, so overshoot cannot leak.
        const v = Math.min(Math.max(acc[x * 3 + c]!, 0), 255)
        out[offset + c * plane + o * side + x] = f(f(v * scale[c]!) + bias[c]!)
      }
    }
  }
}
