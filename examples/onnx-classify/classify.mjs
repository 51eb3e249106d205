// Classifies face images with a model exported by `man-fer export`, using ONNX
// Runtime alone: no libtorch, no man-fer. Everything the model needs (class
// names, input size, normalisation) comes from the file's metadata.
//
//   node classify.mjs model.onnx face1.jpg face2.png ...
import { readFileSync } from 'node:fs'
import jpeg from 'jpeg-js'
import * as ort from 'onnxruntime-node'
import { PNG } from 'pngjs'
import protobuf from 'protobufjs'

const [modelFile, ...images] = process.argv.slice(2)
if (!modelFile || images.length === 0) {
  console.error('usage: node classify.mjs model.onnx IMAGE...')
  process.exit(1)
}

// ONNX Runtime for JavaScript does not expose metadata_props, so read them
// with the two messages of onnx.proto they need (other fields are skipped).
const schema = protobuf.Root.fromJSON({
  nested: {
    ModelProto: { fields: { metadata_props: { rule: 'repeated', type: 'Entry', id: 14 } } },
    Entry: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
  },
})
const bytes = readFileSync(modelFile)
const props = schema.lookupType('ModelProto').decode(bytes).metadata_props
const meta = Object.fromEntries(props.map((p) => [p.key, p.value]))
const classNames = JSON.parse(meta.class_names)
const size = Number(meta.image_size)
const mean = JSON.parse(meta.mean)
const std = JSON.parse(meta.std)

// 8-bit RGBA from a JPEG or PNG file (the alpha channel is ignored below).
function decode(file) {
  const data = readFileSync(file)
  if (data[0] === 0xff && data[1] === 0xd8) return jpeg.decode(data, { useTArray: true, formatAsRGBA: true })
  return PNG.sync.read(data)
}

// Per output pixel: the input pixels and weights of PIL's bilinear resize
// (a triangle filter, widened by the scale factor when shrinking).
function filterTaps(inSize, outSize) {
  const scale = inSize / outSize
  const support = Math.max(scale, 1)
  return Array.from({ length: outSize }, (_, o) => {
    const center = (o + 0.5) * scale
    const lo = Math.max(Math.trunc(center - support + 0.5), 0)
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize)
    const taps = []
    for (let i = lo; i < hi; i++) taps.push([i, Math.max(1 - Math.abs((i - center + 0.5) / support), 0)])
    const total = taps.reduce((s, [, w]) => s + w, 0)
    return taps.map(([i, w]) => [i, w / total])
  })
}

// The whole image resized to size × size, then (v/255 − mean)/std, as float32 CHW.
function preprocess(img, out, offset) {
  const xs = filterTaps(img.width, size)
  const ys = filterTaps(img.height, size)
  const rows = new Float64Array(img.height * size * 3)
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < size; x++) {
      for (const [i, w] of xs[x]) for (let c = 0; c < 3; c++) rows[(y * size + x) * 3 + c] += w * img.data[(y * img.width + i) * 4 + c]
    }
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 0
        for (const [j, w] of ys[y]) v += w * rows[(j * size + x) * 3 + c]
        v = Math.min(Math.max(v, 0), 255)
        out[offset + c * size * size + y * size + x] = (v / 255 - mean[c]) / std[c]
      }
    }
  }
}

const pixels = new Float32Array(images.length * 3 * size * size)
images.forEach((file, n) => preprocess(decode(file), pixels, n * 3 * size * size))

const session = await ort.InferenceSession.create(bytes)
const { logits } = await session.run({ images: new ort.Tensor('float32', pixels, [images.length, 3, size, size]) })

const k = classNames.length
images.forEach((file, n) => {
  const row = Array.from(logits.data.subarray(n * k, (n + 1) * k))
  const max = Math.max(...row)
  const exp = row.map((v) => Math.exp(v - max))
  const sum = exp.reduce((a, b) => a + b, 0)
  const probs = exp.map((e) => e / sum)
  const best = probs.indexOf(Math.max(...probs))
  console.log(`${file}\t${classNames[best]}\t${(100 * probs[best]).toFixed(1)}%`)
})
