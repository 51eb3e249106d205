/**
 * The TypeScript test view of the ONNX path, without the addon: decoding
 * errors name the image, colour handling, and the resize's fixed points.
 * onnx-integration.spec.ts compares it with the addon's own views.
 */
import test from 'ava'
import jpeg from 'jpeg-js'
import { PNG } from 'pngjs'

import { ManError } from '../ts/index.ts'
import { decodeRgb8, IMAGENET_MEAN, IMAGENET_STD, testView } from '../ts/onnx/preprocess.ts'

function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number], colorType?: 0 | 2 | 6): Buffer {
  const image = new PNG({ width, height })
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) image.data.set(pixel(x, y), (y * width + x) * 4)
  }
  return PNG.sync.write(image, colorType === undefined ? {} : { colorType, inputHasAlpha: true })
}

const normalised = (v: number, c: number) => (v / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!

test('undecodable bytes fail with ERR_MAN_DECODE naming the image', (t) => {
  const err = t.throws(() => decodeRgb8(Buffer.from('not an image'), 'notes.txt'), { instanceOf: ManError })
  t.is((err as ManError).code, 'ERR_MAN_DECODE')
  t.is(err.message, 'notes.txt: not a JPEG or PNG image')
  const texture = Buffer.from(Array.from({ length: 32 * 32 * 4 }, (_, i) => (i * 37) % 251))
  const whole = jpeg.encode({ width: 32, height: 32, data: texture }, 90).data
  t.notThrows(() => decodeRgb8(whole, 'whole.jpg'))
  const cut = whole.subarray(0, whole.length - 10)
  t.throws(() => decodeRgb8(cut, 'cut.jpg'), { message: /^cut\.jpg: truncated JPEG/ })
  t.throws(() => decodeRgb8(png(4, 4, () => [1, 2, 3, 255]).subarray(0, 30), 'cut.png'), { message: /^cut\.png: / })
})

test('alpha is dropped, not composited, and greyscale fills all three channels', (t) => {
  const rgba = decodeRgb8(png(2, 1, (x) => (x === 0 ? [200, 100, 50, 0] : [10, 20, 30, 128])), 'a.png')
  t.deepEqual(Array.from(rgba.data), [200, 100, 50, 10, 20, 30])
  const grey = decodeRgb8(png(2, 1, (x) => [x * 100 + 7, x * 100 + 7, x * 100 + 7, 255], 0), 'g.png')
  t.deepEqual(Array.from(grey.data), [7, 7, 7, 107, 107, 107])
})

test('at its own size an image is only normalised, channel by channel, as CHW', (t) => {
  const img = decodeRgb8(png(3, 3, (x, y) => [x * 40 + y, 255 - x * 10, y * 100, 255]), 'p.png')
  const out = new Float32Array(2 + 3 * 3 * 3)
  testView(img, 3, out, 2)
  t.deepEqual(Array.from(out.subarray(0, 2)), [0, 0], 'nothing before the offset is touched')
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 3; x++) {
        const v = img.data[(y * 3 + x) * 3 + c]!
        t.true(Math.abs(out[2 + c * 9 + y * 3 + x]! - normalised(v, c)) < 1e-6, `c${c} y${y} x${x}`)
      }
    }
  }
})

test('resizing keeps a flat image flat and averages a fine pattern when shrinking', (t) => {
  const flat = decodeRgb8(png(7, 5, () => [120, 60, 30, 255]), 'flat.png')
  const out = new Float32Array(3 * 4 * 4)
  testView(flat, 4, out)
  for (let i = 0; i < out.length; i++) t.true(Math.abs(out[i]! - normalised([120, 60, 30][Math.floor(i / 16)]!, Math.floor(i / 16))) < 1e-5)
  // One-pixel stripes of 0 and 200 shrunk 8 → 2: the widened filter averages them to about 100.
  const stripes = decodeRgb8(png(8, 8, (x) => (x % 2 === 0 ? [0, 0, 0, 255] : [200, 200, 200, 255])), 'stripes.png')
  const small = new Float32Array(3 * 2 * 2)
  testView(stripes, 2, small)
  const red = Array.from(small.subarray(0, 4), (v) => (v * IMAGENET_STD[0] + IMAGENET_MEAN[0]) * 255)
  for (const v of red) t.true(Math.abs(v - 100) < 15, `${v}`)
})
