/**
 * The image limits for images decoded in TypeScript (ONNX predict): sizes read
 * from PNG and JPEG headers, pixel bombs refused before decoding, FIFOs,
 * devices and oversized files refused before they are read.
 */
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'

import jpeg from 'jpeg-js'

import { checkImagePixels, imageDimensions, readImageFile } from '../ts/data/image-limits.ts'
import { encodeGreyPng } from '../ts/data/png.ts'
import { ManError } from '../ts/errors.ts'
import { tempDir } from './helpers/orch.ts'

test('width and height come from the PNG and JPEG headers', (t) => {
  t.deepEqual(imageDimensions(encodeGreyPng(new Uint8Array(6 * 4), 6, 4)), { width: 6, height: 4 })
  const j = jpeg.encode({ width: 9, height: 5, data: Buffer.alloc(9 * 5 * 4, 90) }, 80).data
  t.deepEqual(imageDimensions(j), { width: 9, height: 5 })
  t.is(imageDimensions(Buffer.from('not an image')), null)
})

test('an image whose header declares too many pixels is refused before decoding', (t) => {
  const png = Buffer.from(encodeGreyPng(new Uint8Array(4), 2, 2))
  png.writeUInt32BE(14_000, 16)
  png.writeUInt32BE(14_000, 20)
  const err = t.throws(() => checkImagePixels(png, 'image #3'), { instanceOf: ManError })
  t.is(err!.code, 'ERR_MAN_DECODE')
  t.is(err!.message, 'image #3: cannot decode image: 14000×14000 pixels (196.0 megapixels) is over the limit of 40.0 megapixels per image (maxImagePixels); not decoded')
  t.notThrows(() => checkImagePixels(png, 'x', { maxImageBytes: 1, maxImagePixels: 196_000_000 }))
})

test('a FIFO, a device and a file over the limit are refused before they are read', async (t) => {
  const dir = await tempDir(t)
  const fifo = path.join(dir, 'pipe.jpg')
  execFileSync('mkfifo', [fifo])
  await t.throwsAsync(readImageFile(fifo), { instanceOf: ManError, message: `${fifo}: a named pipe (FIFO), not a regular file: refused` })
  await t.throwsAsync(readImageFile('/dev/zero'), { message: '/dev/zero: a character device, not a regular file: refused' })
  const big = path.join(dir, 'big.jpg')
  await fs.writeFile(big, '')
  await fs.truncate(big, 65 * 1024 * 1024)
  await t.throwsAsync(readImageFile(big), { message: `${big}: 65 MiB is over the limit of 64 MiB per image file (maxImageMB)` })
  await fs.writeFile(big, 'small')
  t.is(Buffer.from(await readImageFile(big)).toString(), 'small')
})
