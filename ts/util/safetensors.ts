/**
 * The safetensors format without the addon: 8 bytes of little-endian header
 * length, a JSON header (tensor entries and an optional string map under
 * `__metadata__`), then the tensor bytes. The package reads checkpoint
 * metadata with it (loadModel needs the class names before it can create a
 * trainer) and the weights the ONNX exporter needs on a machine that may
 * have no libtorch; the specs, the fake binding and the benchmarks write and
 * read whole files. Tensor bytes are taken as they lie in memory: little-endian
 * hosts only, which covers every platform man-fer ships for.
 */
import { promises as fs } from 'node:fs'

import { kindOf } from '../data/file-check.ts'
import { ManError } from '../errors.ts'

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array

export interface NamedTensor {
  shape: number[]
  data: TensorData
}

export interface Safetensors {
  tensors: Record<string, NamedTensor>
  metadata: Record<string, string>
}

const MAX_HEADER = 100 * 1024 * 1024
const DTYPES: Array<[string, new (buffer: ArrayBuffer) => TensorData]> = [
  ['F32', Float32Array],
  ['F64', Float64Array],
  ['I64', BigInt64Array],
  ['I32', Int32Array],
]

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

export interface SafetensorsEntry {
  dtype: string
  shape: number[]
  /** Byte range within the data section (after the header). */
  data_offsets: [number, number]
}

export interface SafetensorsHeader {
  metadata: Record<string, string>
  tensors: Map<string, SafetensorsEntry>
  /** Where the data section starts in the file. */
  dataStart: number
}

function headerLength(prefix: Buffer, file: string): number {
  if (prefix.length < 8) throw new ManError('ERR_MAN_WEIGHTS', `${file}: too short to be a safetensors file`)
  const len = Number(prefix.readBigUInt64LE(0))
  if (len > MAX_HEADER) throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header of ${len} bytes is implausible`)
  return len
}

function isEntry(value: unknown): value is SafetensorsEntry {
  const v = value as Partial<SafetensorsEntry> | null
  return (
    typeof v === 'object' && v !== null && typeof v.dtype === 'string' &&
    Array.isArray(v.shape) && v.shape.every((d) => Number.isSafeInteger(d) && d >= 0) &&
    Array.isArray(v.data_offsets) && v.data_offsets.length === 2 &&
    v.data_offsets.every((o) => Number.isSafeInteger(o) && o >= 0) && v.data_offsets[0]! <= v.data_offsets[1]!
  )
}

/** The header of `len` bytes (`json`), every tensor entry checked. */
function parseHeader(json: Buffer, len: number, file: string): SafetensorsHeader {
  if (json.length !== len) throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header is cut short`)
  let parsed: unknown
  try {
    parsed = JSON.parse(json.toString('utf8'))
  } catch (err) {
    throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header is not JSON`, { cause: err })
  }
  if (typeof parsed !== 'object' || parsed === null) throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header is not a JSON object`)
  const tensors = new Map<string, SafetensorsEntry>()
  let metadata: Record<string, string> = {}
  for (const [name, value] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (typeof value === 'object' && value !== null) metadata = value as Record<string, string>
      continue
    }
    if (!isEntry(value)) throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors entry '${name}' is malformed`)
    tensors.set(name, value)
  }
  return { metadata, tensors, dataStart: 8 + len }
}

/** A whole file's bytes: header, then the tensors in the order given, 8-byte aligned. */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = metadata === undefined ? {} : { __metadata__: metadata }
  const parts: Buffer[] = []
  let offset = 0
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = DTYPES.find(([, type]) => t.data instanceof type)?.[0]
    if (dtype === undefined) throw new Error(`tensor ${name} has an unsupported array type`)
    if (product(t.shape) !== t.data.length) {
      throw new Error(`tensor ${name} has ${t.data.length} values for shape [${t.shape.join(', ')}]`)
    }
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] }
    parts.push(bytes)
    offset += bytes.length
  }
  let json = JSON.stringify(header)
  // The format asks for the data to start on an 8-byte boundary: the header is padded with spaces.
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8)
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)))
  return Buffer.concat([len, Buffer.from(json, 'utf8'), ...parts])
}

/** Every tensor (copied out, so each is aligned) and the metadata of a whole file's bytes. */
export function decodeSafetensors(body: Buffer, file: string): Safetensors {
  const len = headerLength(body, file)
  const header = parseHeader(body.subarray(8, 8 + len), len, file)
  const tensors: Record<string, NamedTensor> = {}
  for (const [name, { dtype, shape, data_offsets: [from, to] }] of header.tensors) {
    const type = DTYPES.find(([d]) => d === dtype)?.[1]
    if (type === undefined) throw new ManError('ERR_MAN_WEIGHTS', `${file}: tensor ${name} has unsupported dtype ${dtype}`)
    const data = new type(new Uint8Array(body.subarray(header.dataStart + from, header.dataStart + to)).buffer)
    if (data.length !== product(shape)) throw new ManError('ERR_MAN_WEIGHTS', `${file}: tensor ${name} is cut short`)
    tensors[name] = { shape, data }
  }
  return { tensors, metadata: header.metadata }
}

async function openFile(file: string): Promise<fs.FileHandle> {
  // Checked before opening: opening a FIFO for reading waits for a writer.
  const kind = await fs.stat(file).catch(() => null)
  if (kind !== null && !kind.isFile()) throw new ManError('ERR_MAN_IO', `${file}: ${kindOf(kind)}, not a regular file: refused`)
  try {
    return await fs.open(file, 'r')
  } catch (err) {
    throw new ManError('ERR_MAN_IO', `cannot open checkpoint ${file}: ${(err as Error).message}`, { cause: err })
  }
}

async function readHeader(handle: fs.FileHandle, file: string): Promise<SafetensorsHeader> {
  const prefix = Buffer.alloc(8)
  const { bytesRead } = await handle.read(prefix, 0, 8, 0)
  const len = headerLength(prefix.subarray(0, bytesRead), file)
  const json = Buffer.alloc(len)
  const read = await handle.read(json, 0, len, 8)
  return parseHeader(json.subarray(0, read.bytesRead), len, file)
}

/** The header of a safetensors file, reading nothing else. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const handle = await openFile(file)
  try {
    return await readHeader(handle, file)
  } finally {
    await handle.close()
  }
}

/** The `__metadata__` of a safetensors file, reading only its header. */
export async function readSafetensorsMetadata(file: string): Promise<Record<string, string>> {
  return (await readSafetensorsHeader(file)).metadata
}

/** Throws when the file is shorter or longer than its header says (cut short by a full disk, a copy, a crash). */
export async function assertSafetensorsComplete(file: string): Promise<void> {
  const handle = await openFile(file)
  try {
    const header = await readHeader(handle, file)
    const end = Math.max(0, ...Array.from(header.tensors.values(), (e) => e.data_offsets[1]))
    const expected = header.dataStart + end
    const actual = (await handle.stat()).size
    if (actual !== expected) {
      throw new ManError(
        'ERR_MAN_WEIGHTS',
        `${file}: ${actual < expected ? 'truncated' : 'has trailing bytes'}: ${actual} bytes, its header describes ${expected}`,
      )
    }
  } finally {
    await handle.close()
  }
}

export interface Float32Tensor {
  shape: number[]
  data: Float32Array
}

/**
 * The float32 tensors whose names `wanted` accepts, read one byte range at a
 * time (a checkpoint also holds Adam's moments, which need not be read).
 */
export async function readSafetensorsFloat32(file: string, wanted: (name: string) => boolean): Promise<Map<string, Float32Tensor>> {
  const handle = await openFile(file)
  try {
    const header = await readHeader(handle, file)
    const size = (await handle.stat()).size
    const out = new Map<string, Float32Tensor>()
    for (const [name, entry] of header.tensors) {
      if (!wanted(name)) continue
      if (entry.dtype !== 'F32') throw new ManError('ERR_MAN_WEIGHTS', `${file}: tensor '${name}' is ${entry.dtype}, expected F32`)
      const [from, to] = entry.data_offsets
      const count = product(entry.shape)
      if (to - from !== count * 4) {
        throw new ManError('ERR_MAN_WEIGHTS', `${file}: tensor '${name}' has ${to - from} bytes for shape [${entry.shape.join(', ')}]`)
      }
      if (header.dataStart + to > size) throw new ManError('ERR_MAN_WEIGHTS', `${file}: tensor '${name}' lies past the end of the file`)
      const data = new Float32Array(count)
      const bytes = new Uint8Array(data.buffer)
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, header.dataStart + from)
      if (bytesRead !== bytes.length) throw new ManError('ERR_MAN_WEIGHTS', `${file}: tensor '${name}' is cut short`)
      out.set(name, { shape: entry.shape, data })
    }
    return out
  } finally {
    await handle.close()
  }
}
