/**
 * A minimal safetensors reader and writer for the parity suite: the views
 * man-fer trains on go to the Python reference this way, and the reference's
 * answers and man-fer's checkpoints come back. Little-endian hosts only
 * (typed arrays are written as they lie in memory), which covers every
 * platform man-fer ships for.
 */
import { readFileSync, writeFileSync } from 'node:fs'

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array

export interface NamedTensor {
  shape: number[]
  data: TensorData
}

const DTYPE_OF = new Map<Function, string>([
  [Float32Array, 'F32'],
  [Float64Array, 'F64'],
  [BigInt64Array, 'I64'],
  [Int32Array, 'I32'],
])

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

export function writeSafetensors(file: string, tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = metadata === undefined ? {} : { __metadata__: metadata }
  const parts: Buffer[] = []
  let offset = 0
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = DTYPE_OF.get(t.data.constructor)
    if (dtype === undefined) throw new Error(`${file}: tensor ${name} has an unsupported array type`)
    if (product(t.shape) !== t.data.length) {
      throw new Error(`${file}: tensor ${name} has ${t.data.length} values for shape [${t.shape.join(', ')}]`)
    }
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] }
    parts.push(bytes)
    offset += bytes.length
  }
  let json = JSON.stringify(header)
  // The format asks for the data to start on an 8-byte boundary.
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8)
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)))
  writeFileSync(file, Buffer.concat([len, Buffer.from(json, 'utf8'), ...parts]))
}

export function readSafetensors(file: string): Record<string, NamedTensor> {
  const body = readFileSync(file)
  const len = Number(body.readBigUInt64LE(0))
  const header = JSON.parse(body.subarray(8, 8 + len).toString('utf8')) as Record<string, unknown>
  const start = 8 + len
  const out: Record<string, NamedTensor> = {}
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue
    const { dtype, shape, data_offsets: [from, to] } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] }
    // Copied: a view into `body` would need alignment the file does not promise.
    const bytes = body.subarray(start + from, start + to)
    const copy = new Uint8Array(bytes).buffer
    let data: TensorData
    if (dtype === 'F32') data = new Float32Array(copy)
    else if (dtype === 'F64') data = new Float64Array(copy)
    else if (dtype === 'I64') data = new BigInt64Array(copy)
    else if (dtype === 'I32') data = new Int32Array(copy)
    else throw new Error(`${file}: tensor ${name} has unsupported dtype ${dtype}`)
    if (data.length !== product(shape)) throw new Error(`${file}: tensor ${name} is cut short`)
    out[name] = { shape, data }
  }
  return out
}
