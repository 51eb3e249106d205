/**
 * Image folders: `<root>/train/<class>/*.{jpg,jpeg,png}` and
 * `<root>/test/<class>/*` (or `val/`, or `validation/`, as copies of data sets
 * with a public validation split but no public test split name it). Classes
 * are the training folder names, sorted by code point (locale-independent, so
 * indices never depend on the machine).
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

/** The test split's folder name, in order of preference. */
const TEST_FOLDERS = ['test', 'val', 'validation']

async function listSplit(root: string, split: string): Promise<string[] | null> {
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
  let testFolder = 'test'
  let testClasses: string[] = []
  for (const name of TEST_FOLDERS) {
    const classes = await listSplit(root, name)
    if (classes) {
      testFolder = name
      testClasses = classes
      break
    }
  }
  const scan: Scan = {
    root,
    format: 'folder',
    classNames: trainClasses,
    entries: [],
    problems: [],
    checkExistence: true,
  }
  const classIndex = new Map(trainClasses.map((c, i) => [c, i]))
  const splits: Array<[Split, string, string[]]> = [['train', 'train', trainClasses], ['test', testFolder, testClasses]]
  for (const [split, folder, classes] of splits) {
    for (const name of classes) {
      const dir = join(root, folder, name)
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
        scan.entries.push({ path, shown: join(folder, name, image), label, split, file: path })
      }
    }
  }
  return scan
}
