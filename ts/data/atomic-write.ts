/**
 * Whole-file writes that never leave a half-written file behind: a temp file
 * in the same directory, fsync, rename, then fsync of the directory so that
 * the rename itself survives a crash. The one helper for every file man-fer
 * writes (run directories, noise files, synthetic datasets).
 */
import { randomBytes } from 'node:crypto'
import { copyFile, open, rename, rm, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

import { ManError } from '../errors.ts'

const TEMP_SUFFIX = '.tmp'

/** A fresh temp file name beside `path`: hidden, ending in `.tmp`. */
function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`)
}

/** Whether a directory entry is a temp file an interrupted atomic write left behind. */
export function isAtomicWriteTemp(name: string): boolean {
  return name.startsWith('.') && name.endsWith(TEMP_SUFFIX)
}

function writeError(path: string, err: unknown): ManError {
  return new ManError('ERR_MAN_IO', `cannot write ${path}: ${(err as Error).message}`, { cause: err })
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch {
    // Some platforms (Windows) cannot open or sync a directory; the rename is then as durable as it gets.
  } finally {
    await handle?.close()
  }
}

/** Replaces `path` with `data`, atomically. */
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
    throw writeError(path, err)
  }
  await fsyncDir(dirname(path))
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
    throw writeError(to, err)
  }
  await fsyncDir(dirname(to))
}
