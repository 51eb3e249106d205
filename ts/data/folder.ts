/**
 * Image folders: `<root>/train/<class>/*.{jpg,jpeg,png}` and
 * `<root>/test/<class>/*`. Classes are the training folder names, sorted by
 * code point (locale-independent, so indices never depend on the machine).
 * Other files (READMEs, .DS_Store) are ignored; an entry with an image's name
 * that is not a regular file (a FIFO, a device, a link leaving the root) or
 * whose name is not UTF-8 is a problem, named.
 */
import { readdir } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { dataError } from './problems.ts'
import type { Scan } from './scan.ts'
import type { Split } from './types.ts'

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png'])

interface Listing {
  dirs: string[]
  images: string[]
  /** Image files whose names are not valid UTF-8 (they cannot be passed on by name). */
  undecodable: string[]
}

async function listDir(dir: string): Promise<Listing> {
  const entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' })
  const out: Listing = { dirs: [], images: [], undecodable: [] }
  for (const e of entries) {
    const raw = e.name as unknown as Buffer
    const name = raw.toString('utf8')
    if (name.startsWith('.')) continue
    if (e.isDirectory()) {
      out.dirs.push(name)
      continue
    }
    if (!IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) continue
    // Links, FIFOs and devices with an image's name are listed too: the scan
    // checks each and refuses what is not a regular file, by name.
    if (!Buffer.from(name, 'utf8').equals(raw)) out.undecodable.push(name)
    else out.images.push(name)
  }
  out.dirs.sort()
  out.images.sort()
  return out
}

async function listSplit(root: string, split: Split): Promise<string[] | null> {
  try {
    return (await listDir(join(root, split))).dirs
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw dataError(`cannot read ${join(root, split)}: ${(err as Error).message}`, err)
  }
}

export async function scanFolder(root: string): Promise<Scan> {
  const trainClasses = await listSplit(root, 'train')
  if (!trainClasses) throw dataError(`${root}: no train/ folder (expected train/<class>/ and test/<class>/)`)
  const testClasses = (await listSplit(root, 'test')) ?? []
  const scan: Scan = {
    root,
    format: 'folder',
    classNames: trainClasses,
    entries: [],
    problems: [],
    checkExistence: true,
  }
  const classIndex = new Map(trainClasses.map((c, i) => [c, i]))
  for (const [split, classes] of [['train', trainClasses], ['test', testClasses]] as const) {
    for (const name of classes) {
      const dir = join(root, split, name)
      let images: string[]
      try {
        const listing = await listDir(dir)
        images = listing.images
        for (const name of listing.undecodable) {
          scan.problems.push({ file: join(dir, name), message: 'file name is not valid UTF-8: rename the file' })
        }
      } catch (err) {
        scan.problems.push({ file: dir, message: `cannot read the class folder: ${(err as Error).message}` })
        continue
      }
      const label = classIndex.get(name)
      if (label === undefined) {
        scan.problems.push({ file: dir, message: `unknown label: class ${JSON.stringify(name)} is not in train/ (${images.length} images)` })
        continue
      }
      for (const image of images) {
        const path = join(dir, image)
        scan.entries.push({ path, shown: join(split, name, image), label, split, file: path })
      }
    }
  }
  return scan
}
