/**
 * Reads the header of a safetensors file without the addon: 8 bytes of
 * little-endian length followed by JSON. loadModel needs the class names
 * before it can create a trainer of the right shape, and resume needs to know
 * which checkpoints are whole before it picks one.
 */
import { promises as fs } from 'node:fs'

import { kindOf } from '../data/file-check.ts'
import { ManError } from '../errors.ts'

const MAX_HEADER = 100 * 1024 * 1024

interface Header {
  json: Record<string, unknown>
  /** Bytes the file must have: 8 + header + the end of the last tensor's data. */
  expectedSize: number
  actualSize: number
}

async function readHeader(file: string): Promise<Header> {
  // Checked before opening: opening a FIFO for reading waits for a writer.
  const kind = await fs.stat(file).catch(() => null)
  if (kind !== null && !kind.isFile()) throw new ManError('ERR_MAN_IO', `${file}: ${kindOf(kind)}, not a regular file: refused`)
  let handle: fs.FileHandle
  try {
    handle = await fs.open(file, 'r')
  } catch (err) {
    throw new ManError('ERR_MAN_IO', `cannot open checkpoint ${file}: ${(err as Error).message}`, { cause: err })
  }
  try {
    const stat = await handle.stat()
    const lenBuf = Buffer.alloc(8)
    const { bytesRead } = await handle.read(lenBuf, 0, 8, 0)
    if (bytesRead !== 8) throw new ManError('ERR_MAN_WEIGHTS', `${file}: too short to be a safetensors file`)
    const len = Number(lenBuf.readBigUInt64LE(0))
    if (len > MAX_HEADER) throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header of ${len} bytes is implausible`)
    const header = Buffer.alloc(len)
    const read = await handle.read(header, 0, len, 8)
    if (read.bytesRead !== len) throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header is cut short`)
    let json: unknown
    try {
      json = JSON.parse(header.toString('utf8'))
    } catch (err) {
      throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header is not JSON`, { cause: err })
    }
    if (typeof json !== 'object' || json === null) throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header is not an object`)
    let end = 0
    for (const [name, entry] of Object.entries(json)) {
      if (name === '__metadata__') continue
      const offsets = (entry as { data_offsets?: unknown }).data_offsets
      if (Array.isArray(offsets) && typeof offsets[1] === 'number') end = Math.max(end, offsets[1])
    }
    return { json: json as Record<string, unknown>, expectedSize: 8 + len + end, actualSize: stat.size }
  } finally {
    await handle.close()
  }
}

export async function readSafetensorsMetadata(file: string): Promise<Record<string, string>> {
  const meta = (await readHeader(file)).json.__metadata__
  if (typeof meta !== 'object' || meta === null) return {}
  return meta as Record<string, string>
}

/** Throws when the file is shorter or longer than its header says (cut short by a full disk, a copy, a crash). */
export async function assertSafetensorsComplete(file: string): Promise<void> {
  const { expectedSize, actualSize } = await readHeader(file)
  if (actualSize !== expectedSize) {
    throw new ManError(
      'ERR_MAN_WEIGHTS',
      `${file}: ${actualSize < expectedSize ? 'truncated' : 'has trailing bytes'}: ${actualSize} bytes, its header describes ${expectedSize}`,
    )
  }
}
