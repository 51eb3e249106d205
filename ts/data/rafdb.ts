/**
 * RAF-DB (basic) as distributed: `EmoLabel/list_patition_label.txt` (sic) with
 * lines `train_00001.jpg 5`, or the `EmoLabel/train_label.txt` and
 * `EmoLabel/test_label.txt` variant in the same format; images at
 * `Image/aligned/<name>_aligned.jpg`. Labels 1-7 become indices 0-6.
 */
import { readFile } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import { dataError, type Problem } from './problems.ts'
import type { Entry, Scan } from './scan.ts'
import type { Split } from './types.ts'
import { isDir, isFile } from './fs-kind.ts'

export const RAFDB_CLASSES = ['Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger', 'Neutral']

export const RAFDB_PARTITION_FILE = join('EmoLabel', 'list_patition_label.txt')
const TRAIN_FILE = join('EmoLabel', 'train_label.txt')
const TEST_FILE = join('EmoLabel', 'test_label.txt')

/**
 * The folder holding EmoLabel/ and Image/: `path` itself, its `basic/` folder
 * (how the archive unpacks), or the parent when `path` is EmoLabel/ or a label file.
 */
export async function findRafdbRoot(path: string): Promise<string | null> {
  if (await isFile(path)) return basename(dirname(path)) === 'EmoLabel' ? dirname(dirname(path)) : null
  if (basename(path) === 'EmoLabel' && (await isDir(path))) return dirname(path)
  for (const root of [path, join(path, 'basic')]) {
    if (await isDir(join(root, 'EmoLabel'))) return root
  }
  return null
}

/** `train_00001.jpg` → `train_00001_aligned.jpg`; names that already say `_aligned` stay. */
export function alignedName(name: string): string {
  const ext = extname(name)
  const stem = name.slice(0, name.length - ext.length)
  return stem.endsWith('_aligned') ? name : `${stem}_aligned${ext}`
}

async function readListing(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw dataError(`cannot read the RAF-DB label file ${file}: ${(err as Error).message}`, err)
  }
}

function parseListing(root: string, file: string, text: string, expected: Split | null, scan: Scan): void {
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    const problem = (message: string) => scan.problems.push({ file, line: i + 1, message } satisfies Problem)
    const tokens = line.split(/\s+/)
    if (tokens.length !== 2) {
      problem(`malformed line (expected "<image name> <label 1-7>"): ${JSON.stringify(line)}`)
      continue
    }
    const [name, labelText] = tokens as [string, string]
    const split: Split | null = name.startsWith('train_') ? 'train' : name.startsWith('test_') ? 'test' : null
    if (!split) {
      problem(`malformed image name ${JSON.stringify(name)} (expected train_... or test_...)`)
      continue
    }
    if (expected && split !== expected) {
      problem(`${name} is a ${split} image listed in the ${expected} label file`)
      continue
    }
    const label = /^\d+$/.test(labelText) ? Number(labelText) : NaN
    if (!(label >= 1 && label <= RAFDB_CLASSES.length)) {
      problem(`unknown label ${JSON.stringify(labelText)} for ${name} (RAF-DB labels are 1-7)`)
      continue
    }
    const image = join(root, 'Image', 'aligned', alignedName(name))
    scan.entries.push({ path: image, shown: name, label: label - 1, split, file, line: i + 1 } satisfies Entry)
  }
}

export async function scanRafdb(root: string): Promise<Scan> {
  const scan: Scan = {
    root,
    format: 'rafdb',
    classNames: [...RAFDB_CLASSES],
    entries: [],
    problems: [],
    checkExistence: true,
  }
  const partition = join(root, RAFDB_PARTITION_FILE)
  if (await isFile(partition)) {
    parseListing(root, partition, await readListing(partition), null, scan)
    return scan
  }
  const train = join(root, TRAIN_FILE)
  const test = join(root, TEST_FILE)
  const [hasTrain, hasTest] = [await isFile(train), await isFile(test)]
  if (!hasTrain && !hasTest) {
    throw dataError(`${root}: no RAF-DB label file (expected ${RAFDB_PARTITION_FILE}, or ${TRAIN_FILE} and ${TEST_FILE})`)
  }
  if (!hasTrain || !hasTest) {
    throw dataError(`${root}: ${hasTrain ? TEST_FILE : TRAIN_FILE} is missing (its partner ${hasTrain ? TRAIN_FILE : TEST_FILE} exists)`)
  }
  parseListing(root, train, await readListing(train), 'train', scan)
  parseListing(root, test, await readListing(test), 'test', scan)
  return scan
}
