/**
 * JPEG encoding for the synthetic set, through jpeg-js. jpeg-js's `encode()`
 * rebuilds its lookup tables (65,535 small arrays) on every call, far more
 * work than a 100×100 encode itself. Its
 * encoder object can encode many images, but the package does not export it,
 * so we compile the package's encoder source once and keep one encoder. If the
 * source ever stops defining `JPEGEncoder`, we fall back to plain `encode()`;
 * the bytes are the same either way (a spec checks this).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { compileFunction } from 'node:vm'
import jpeg from 'jpeg-js'

export interface Rgba {
  width: number
  height: number
  data: Uint8Array
}

interface JpegJsEncoder {
  encode(image: Rgba, quality: number): Buffer
}

type EncoderClass = new (quality: number) => JpegJsEncoder

function loadEncoderClass(): EncoderClass | null {
  try {
    const require = createRequire(import.meta.url)
    const source = readFileSync(require.resolve('jpeg-js/lib/encoder.js'), 'utf8')
    const make = compileFunction(`${source}\n;return typeof JPEGEncoder === 'function' ? JPEGEncoder : null`, [
      'module',
      'Buffer',
    ])
    return make({ exports: {} }, Buffer) as EncoderClass | null
  } catch {
    return null
  }
}

let Encoder: EncoderClass | null | undefined
const encoders = new Map<number, JpegJsEncoder>()

/** Encodes RGBA pixels as a baseline JPEG at `quality` (1-100). */
export function encodeJpeg(image: Rgba, quality: number): Buffer {
  if (Encoder === undefined) Encoder = loadEncoderClass()
  if (Encoder === null) return jpeg.encode(image, quality).data
  let encoder = encoders.get(quality)
  if (!encoder) {
    encoder = new Encoder(quality)
    encoders.set(quality, encoder)
  }
  return encoder.encode(image, quality)
}

/** Whether the reusable encoder is in use (for the spec that compares it with jpeg-js's encode). */
export function usesReusableEncoder(): boolean {
  if (Encoder === undefined) Encoder = loadEncoderClass()
  return Encoder !== null
}
