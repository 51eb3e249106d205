/**
 * Reads the `__metadata__` of a safetensors file without the addon: the
 * header is 8 bytes of little-endian length followed by JSON. loadModel needs
 * the class names before it can create a trainer of the right shape.
 */
import { promises as fs } from 'node:fs'

import { ManError } from '../errors.ts'

const MAX_HEADER = 100 * 1024 * 1024

export async function readSafetensorsMetadata(file: string): Promise<Record<string, string>> {
  let handle: fs.FileHandle
  try {
    handle = await fs.open(file, 'r')
  } catch (err) {
    throw new ManError('ERR_MAN_IO', `cannot open checkpoint ${file}: ${(err as Error).message}`, { cause: err })
  }
  try {
    const lenBuf = Buffer.alloc(8)
    const { bytesRead } = await handle.read(lenBuf, 0, 8, 0)
    if (bytesRead !== 8) throw new ManError('ERR_MAN_WEIGHTS', `${file}: too short to be a safetensors file`)
    const len = Number(lenBuf.readBigUInt64LE(0))
    if (len > MAX_HEADER) throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header of ${len} bytes is implausible`)
    const header = Buffer.alloc(len)
    const read = await handle.read(header, 0, len, 8)
    if (read.bytesRead !== len) throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header is cut short`)
    let parsed: unknown
    try {
      parsed = JSON.parse(header.toString('utf8'))
    } catch (err) {
      throw new ManError('ERR_MAN_WEIGHTS', `${file}: safetensors header is not JSON`, { cause: err })
    }
    const meta = (parsed as { __metadata__?: unknown }).__metadata__
    if (typeof meta !== 'object' || meta === null) return {}
    return meta as Record<string, string>
  } finally {
    await handle.close()
  }
}
