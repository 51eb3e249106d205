/** Whole-file writes that never leave a half-written file behind (temp file, fsync, rename). */
import { copyFile, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { ManError } from '../errors.ts'

function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`)
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempNameFor(path)
  try {
    const fh = await open(tmp, 'w')
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw new ManError('ERR_MAN_IO', `cannot write ${path}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Replaces `to` atomically with a byte copy of `from` that shares no storage
 * with it (no hard link, no reflink), so damage to one file leaves the other.
 */
export async function copyFileAtomic(from: string, to: string): Promise<void> {
  const tmp = tempNameFor(to)
  try {
    await copyFile(from, tmp)
    const fh = await open(tmp, 'r+')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, to)
  } catch (err) {
    await rm(tmp, { force: true })
    throw new ManError('ERR_MAN_IO', `cannot write ${to}: ${(err as Error).message}`, { cause: err })
  }
}
