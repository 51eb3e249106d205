/**
 * Small JPEG data URIs of training images for the report's suspect list:
 * decoded in TypeScript (jpeg-js, pngjs; no libtorch), box-filtered down to
 * at most THUMB_SIZE pixels a side, re-encoded. An image that cannot be read
 * gets no thumbnail and a reason instead; the report never fails for one.
 */
import { promises as fs } from 'node:fs'

import jpeg from 'jpeg-js'
import { PNG } from 'pngjs'

export const THUMB_SIZE = 64
const THUMB_QUALITY = 70
/** Larger files are not face crops; decoding them would cost more than a thumbnail is worth. */
const MAX_FILE_BYTES = 32 * 1024 * 1024

export type Thumbnail = { uri: string } | { error: string }

interface Rgba {
  width: number
  height: number
  data: Uint8Array
}

function decode(bytes: Buffer): Rgba {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 64, maxMemoryUsageInMB: 512 })
    return { width: img.width, height: img.height, data: img.data }
  }
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    const img = PNG.sync.read(bytes)
    return { width: img.width, height: img.height, data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length) }
  }
  throw new Error('not a JPEG or PNG file')
}

/** Mean of the source pixels each target pixel covers (fractional coverage at the edges). */
export function boxDownscale(src: Rgba, maxSide: number): Rgba {
  const scale = Math.min(1, maxSide / Math.max(src.width, src.height))
  if (scale === 1) return src
  const w = Math.max(1, Math.round(src.width * scale))
  const h = Math.max(1, Math.round(src.height * scale))
  const sx = src.width / w
  const sy = src.height / h
  const out = new Uint8Array(w * h * 4)
  const acc = new Float64Array(4)
  for (let y = 0; y < h; y++) {
    const y0 = y * sy
    const y1 = y0 + sy
    for (let x = 0; x < w; x++) {
      const x0 = x * sx
      const x1 = x0 + sx
      acc.fill(0)
      let area = 0
      for (let py = Math.floor(y0); py < Math.min(src.height, Math.ceil(y1)); py++) {
        const wy = Math.min(y1, py + 1) - Math.max(y0, py)
        for (let px = Math.floor(x0); px < Math.min(src.width, Math.ceil(x1)); px++) {
          const wgt = wy * (Math.min(x1, px + 1) - Math.max(x0, px))
          const i = (py * src.width + px) * 4
          for (let c = 0; c < 4; c++) acc[c]! += wgt * src.data[i + c]!
          area += wgt
        }
      }
      const o = (y * w + x) * 4
      for (let c = 0; c < 4; c++) out[o + c] = Math.round(acc[c]! / area)
    }
  }
  return { width: w, height: h, data: out }
}

/** Transparent pixels over white, as a JPEG has no alpha. */
function flatten(img: Rgba): Rgba {
  const data = new Uint8Array(img.data)
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3]! / 255
    for (let c = 0; c < 3; c++) data[i + c] = Math.round(data[i + c]! * a + 255 * (1 - a))
    data[i + 3] = 255
  }
  return { ...img, data }
}

export async function thumbnail(file: string, maxSide = THUMB_SIZE): Promise<Thumbnail> {
  try {
    const stat = await fs.stat(file)
    if (stat.size > MAX_FILE_BYTES) return { error: `larger than ${MAX_FILE_BYTES >> 20} MiB` }
    const small = flatten(boxDownscale(decode(await fs.readFile(file)), maxSide))
    const encoded = jpeg.encode({ width: small.width, height: small.height, data: Buffer.from(small.data.buffer) }, THUMB_QUALITY)
    return { uri: `data:image/jpeg;base64,${encoded.data.toString('base64')}` }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return { error: e.code === 'ENOENT' ? 'image not found' : e.message }
  }
}
