/**
 * Reads safetensors files without the addon: the header is 8 bytes of
 * little-endian length followed by JSON naming each tensor's dtype, shape and
 * byte range. loadModel needs the class names (`__metadata__`) before it can
 * create a trainer of the right shape; the ONNX exporter needs the weights on
 * a machine that may have no libtorch.
 */
import { promises as fs } from 'node:fs'

import { ManError } from '../errors.ts'

const MAX_HEADER = 100 * 1024 * 1024

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

async function openFile(file: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(file, 'r')
  } catch (err) {
    throw new ManError('ERR_MAN_IO', `cannot open checkpoint ${file}: ${(err as Error).message}`, { cause: err })
  }
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

async function readHeader(handle: fs.FileHandle, file: string): Promise<SafetensorsHeader> {
  const lenBuf = Buffer.alloc(8)
  const { bytesRead } = await handle.read(lenBuf, 0, 8, 0)
  if (bytesRead !== 8) throw new ManError('ERR_MAN_WEIGHTS', `${file}: too short to be a safetensors file`)
  const len = Number(lenBuf.readBigUInt64LE(0))
  if (len > MAX_HEADER) throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header of ${len} bytes is implausible`)
  const raw = Buffer.alloc(len)
  const read = await handle.read(raw, 0, len, 8)
  if (read.bytesRead !== len) throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header is cut short`)
  let parsed: unknown
  try {
    parsed = JSON.parse(raw.toString('utf8'))
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

export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const handle = await openFile(file)
  try {
    return await readHeader(handle, file)
  } finally {
    await handle.close()
  }
}

export async function readSafetensorsMetadata(file: string): Promise<Record<string, string>> {
  return (await readSafetensorsHeader(file)).metadata
}

export interface Float32Tensor {
  shape: number[]
  data: Float32Array
}

/**
 * The float32 tensors whose names `wanted` accepts, read one byte range at a
 * time (a checkpoint also holds Adam's moments, which need not be read).
 * Little-endian hosts only, like every platform man-fer ships for.
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
      const count = entry.shape.reduce((a, b) => a * b, 1)
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
