/**
 * A tiny two-class image set for the native integration specs: bright and
 * dark 32×32 JPEGs with a little per-image texture, made with jpeg-js.
 */
import jpeg from 'jpeg-js'

export function toyJpeg(bright: boolean, seed: number, size = 32): Buffer {
  const data = Buffer.alloc(size * size * 4)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const noise = ((x * 7 + y * 13 + seed * 31) % 17) * 2
      const v = bright ? 200 + noise : 30 + noise
      const o = (y * size + x) * 4
      data[o] = v
      data[o + 1] = Math.max(0, v - 20)
      data[o + 2] = Math.min(255, v + 10)
      data[o + 3] = 255
    }
  }
  return jpeg.encode({ width: size, height: size, data }, 90).data
}

/** `n` images alternating bright (class 0) and dark (class 1). */
export function toySet(n: number): { buffers: Buffer[]; names: string[]; labels: Int32Array } {
  const buffers: Buffer[] = []
  const names: string[] = []
  const labels = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const cls = i % 2
    buffers.push(toyJpeg(cls === 0, i))
    names.push(`toy-${i}.jpg`)
    labels[i] = cls
  }
  return { buffers, names, labels }
}
