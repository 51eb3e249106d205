/**
 * Existence checks for many image paths at once. Listing each directory once
 * costs a handful of system calls where a stat per file would cost 10^5.
 */
import type { Dirent } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'

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

/** For each absolute path: null when it is a readable file (or a link to one), otherwise why not. */
export async function checkFiles(paths: readonly string[]): Promise<(string | null)[]> {
  const dirs = [...new Set(paths.map((p) => dirname(p)))]
  const listings = await mapLimit(dirs, CONCURRENCY, async (dir) => {
    try {
      const entries = await readdir(dir, { withFileTypes: true })
      return new Map<string, Dirent>(entries.map((e) => [e.name, e]))
    } catch {
      return null
    }
  })
  const byDir = new Map(dirs.map((d, i) => [d, listings[i]!]))
  const result: (string | null)[] = paths.map((p) => {
    const listing = byDir.get(dirname(p))
    if (!listing) return 'missing image (its folder cannot be read)'
    const e = listing.get(basename(p))
    if (!e) return 'missing image'
    if (e.isFile()) return null
    if (e.isSymbolicLink()) return 'link' // resolved below
    return 'not a regular file'
  })
  const links = result.flatMap((r, i) => (r === 'link' ? [i] : []))
  await mapLimit(links, CONCURRENCY, async (i) => {
    try {
      result[i] = (await stat(paths[i]!)).isFile() ? null : 'link to something that is not a file'
    } catch {
      result[i] = 'broken link'
    }
  })
  return result
}
