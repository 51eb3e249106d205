/**
 * The image limits of the addon (files/image.rs, files.rs) for images decoded
 * in TypeScript (the ONNX predict path): only regular files, a size limit,
 * and the pixel count read from the header before anything is decoded.
 */
import { promises as fs } from 'node:fs'

import { DATA_LIMITS } from '../config/schema.ts'
import { ManError } from '../errors.ts'
import { argumentError, describe } from '../util/arguments.ts'
import { kindOf } from './file-check.ts'

export interface ImageLimits {
  maxImageBytes: number
  maxImagePixels: number
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  maxImageBytes: DATA_LIMITS.maxImageMB * 1024 * 1024,
  maxImagePixels: DATA_LIMITS.maxImagePixels,
}

/** Refuses anything that is not a list of paths and byte buffers, naming the first bad entry. */
export function expectImageList(where: string, images: unknown): asserts images is Array<string | Uint8Array> {
  if (!Array.isArray(images)) {
    throw argumentError(where, `images must be an array of file paths or encoded images, got ${describe(images)}`)
  }
  images.forEach((x: unknown, i) => {
    if (typeof x === 'string' ? x === '' : !(x instanceof Uint8Array)) {
      throw argumentError(
        where,
        `images[${i}] is ${describe(x)}; expected a file path (non-empty string) or encoded image bytes (Buffer or Uint8Array)`,
      )
    }
  })
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MiB`
}

/** The bytes of an image file: a FIFO or device is refused before it is opened, a file over the limit before it is read. */
export async function readImageFile(file: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<Uint8Array> {
  let stat
  try {
    stat = await fs.stat(file)
  } catch (err) {
    throw new ManError('ERR_MAN_IO', `cannot read ${file}: ${(err as Error).message}`, { cause: err })
  }
  if (!stat.isFile()) throw new ManError('ERR_MAN_IO', `${file}: ${kindOf(stat)}, not a regular file: refused`)
  if (stat.size > limits.maxImageBytes) {
    throw new ManError('ERR_MAN_IO', `${file}: ${mib(stat.size)} is over the limit of ${mib(limits.maxImageBytes)} per image file (maxImageMB)`)
  }
  try {
    return await fs.readFile(file)
  } catch (err) {
    throw new ManError('ERR_MAN_IO', `cannot read ${file}: ${(err as Error).message}`, { cause: err })
  }
}

/** Width and height from a PNG's IHDR or a JPEG's first frame header; null when neither is found. */
export function imageDimensions(bytes: Uint8Array): { width: number; height: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return { width: view.getUint32(16), height: view.getUint32(20) }
  }
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return null
  let at = 2
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return null
    const marker = bytes[at + 1]!
    if (marker === 0xff) {
      at++
      continue
    }
    const length = view.getUint16(at + 2)
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (isFrame && at + 9 <= bytes.length) return { height: view.getUint16(at + 5), width: view.getUint16(at + 7) }
    at += 2 + length
  }
  return null
}

/** Refuses an image whose header declares more pixels than the limit, before it is decoded. */
export function checkImagePixels(bytes: Uint8Array, name: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): void {
  const size = imageDimensions(bytes)
  if (size === null) return
  const pixels = size.width * size.height
  if (pixels > limits.maxImagePixels) {
    throw new ManError(
      'ERR_MAN_DECODE',
      `${name}: cannot decode image: ${size.width}×${size.height} pixels (${(pixels / 1e6).toFixed(1)} megapixels) is over the limit of ` +
        `${(limits.maxImagePixels / 1e6).toFixed(1)} megapixels per image (maxImagePixels); not decoded`,
    )
  }
}
