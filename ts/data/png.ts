/**
 * 8-bit greyscale PNG encoding, for datasets whose pixels come as numbers in
 * a text file (FERPlus): the addon decodes PNG, so no image touches the disk.
 */
import { PNG } from 'pngjs'

/** `pixels`: width × height bytes, row-major, 0 = black. */
export function encodeGreyPng(pixels: Uint8Array, width: number, height: number): Buffer {
  if (pixels.length !== width * height) throw new RangeError(`${pixels.length} pixels for a ${width}x${height} image`)
  // Faces this small gain little from row filters; no filtering keeps 36k encodes quick.
  return PNG.sync.write(
    { width, height, data: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength) } as PNG,
    { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8, filterType: 0 },
  )
}
