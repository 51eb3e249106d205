/**
 * Image folders: `<root>/train/<class>/*.{jpg,jpeg,png}` and
 * `<root>/test/<class>/*` (or `val/`, or `validation/`, as copies of data sets
 * with a public validation split but no public test split name it). Classes
 * are the training folder names, sorted by code point (locale-independent, so
 * indices never depend on the machine).
 * Other files (READMEs, .DS_Store) are ignored.
 */
import { readdir } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { dataError } from './problems.ts'
import type { Scan } from './scan.ts'
import type { Split } from './types.ts'

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png'])

async function listDir(dir: string): Promise<{ dirs: string[]; images: string[] }> {
  const entries = await readdir(dir, { withFileTypes: true })
  const dirs: string[] = []
  const images: string[] = []
  for (const e of entries) {
    if (e.name.startsWith('.')) continue
    // Links are followed when the image is read; treating them as images here keeps this to one readdir.
    if (e.isDirectory()) dirs.push(e.name)
    else if ((e.isFile() || e.isSymbolicLink()) && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) {
      images.push(e.name)
    }
  }
  return { dirs: dirs.sort(), images: images.sort() }
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
    checkExistence: false,
  }
  const classIndex = new Map(trainClasses.map((c, i) => [c, i]))
  const splits: Array<[Split, string, string[]]> = [['train', 'train', trainClasses], ['test', testFolder, testClasses]]
  for (const [split, folder, classes] of splits) {
    for (const name of classes) {
      const dir = join(root, folder, name)
      let images: string[]
      try {
        images = (await listDir(dir)).images
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
