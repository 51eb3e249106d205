/** A minimal safetensors writer for float32 tensors: the views handed to the PyTorch baseline. */
import { writeFile } from 'node:fs/promises'

export interface F32Tensor {
  shape: number[]
  data: Float32Array
}

export async function writeSafetensors(file: string, tensors: Record<string, F32Tensor>): Promise<void> {
  const header: Record<string, unknown> = {}
  let offset = 0
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1)
    if (count !== t.data.length) throw new Error(`${name}: shape ${t.shape.join('x')} holds ${count} values, data has ${t.data.length}`)
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] }
    offset += t.data.byteLength
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8')
  // The format wants the data to start 8-byte aligned; the header is padded with spaces.
  const pad = (8 - (json.length % 8)) % 8
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)])
  const size = Buffer.alloc(8)
  size.writeBigUInt64LE(BigInt(json.length))
  // Little-endian float32 on every platform Node runs this on.
  const parts = [size, json, ...Object.values(tensors).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))]
  await writeFile(file, Buffer.concat(parts))
}
