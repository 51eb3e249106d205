/**
 * Checks many image paths at once: each must be a regular file (or a link to
 * one) inside the dataset root. Listing each directory once costs a handful
 * of system calls where a stat per file would cost 10^5; only links and the
 * directories themselves are resolved one by one.
 */
import type { Dirent, Stats } from 'node:fs'
import { readdir, realpath, stat } from 'node:fs/promises'
import { basename, dirname, join, sep } from 'node:path'

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

const CONCURRENCY = 16

/** What a non-regular directory entry or link target is, in words. */
export function kindOf(e: Dirent | Stats): string {
  if (e.isDirectory()) return 'a directory'
  if (e.isFIFO()) return 'a named pipe (FIFO)'
  if (e.isCharacterDevice()) return 'a character device'
  if (e.isBlockDevice()) return 'a block device'
  if (e.isSocket()) return 'a socket'
  return 'not a regular file'
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep)
}

async function resolved(path: string): Promise<string | null> {
  return realpath(path).catch(() => null)
}

/**
 * For each absolute path: null when it is a regular file (or a link to one)
 * whose real location is inside `root`, otherwise why not. Without a root,
 * where a file lives is not checked.
 */
export async function checkFiles(paths: readonly string[], root?: string): Promise<(string | null)[]> {
  const realRoot = root === undefined ? null : await resolved(root)
  const dirs = [...new Set(paths.map((p) => dirname(p)))]
  const listings = await mapLimit(dirs, CONCURRENCY, async (dir) => {
    try {
      const entries = await readdir(dir, { withFileTypes: true })
      const real = realRoot === null ? null : await resolved(dir)
      return { entries: new Map<string, Dirent>(entries.map((e) => [e.name, e])), real }
    } catch {
      return null
    }
  })
  const byDir = new Map(dirs.map((d, i) => [d, listings[i]!]))
  const escapes = (real: string) => `escapes the dataset root ${root} (it resolves to ${real})`
  const result: (string | null)[] = paths.map((p) => {
    const listing = byDir.get(dirname(p))
    if (!listing) return 'missing image (its folder cannot be read)'
    const e = listing.entries.get(basename(p))
    if (!e) return 'missing image'
    if (e.isSymbolicLink()) return 'link' // resolved below
    if (!e.isFile()) return `${kindOf(e)}, not a regular file`
    // A folder reached through a link may lie outside the root.
    if (realRoot !== null && listing.real !== null && !isInside(realRoot, listing.real)) return escapes(join(listing.real, basename(p)))
    return null
  })
  const links = result.flatMap((r, i) => (r === 'link' ? [i] : []))
  await mapLimit(links, CONCURRENCY, async (i) => {
    const path = paths[i]!
    try {
      const target = await stat(path)
      if (!target.isFile()) {
        result[i] = `a link to ${kindOf(target)}, not a regular file`
        return
      }
      const real = realRoot === null ? null : await resolved(path)
      result[i] = real !== null && !isInside(realRoot!, real) ? escapes(real) : null
    } catch {
      result[i] = 'broken link'
    }
  })
  return result
}
