/**
 * What every adapter shares: it reads its listing into entries and problems,
 * then `finishScan` checks the entries (root escapes, duplicates, missing
 * files), and either fails with every problem or drops the bad entries.
 */
import { relative, sep } from 'node:path'
import { checkFiles } from './file-check.ts'
import { DatasetError, formatProblem, sortProblems, type Problem } from './problems.ts'
import type { DatasetIndex, DatasetSplit, Split } from './types.ts'

export interface Entry {
  /** Absolute, normalised image path. */
  path: string
  /** The path as the listing wrote it, for messages. */
  shown: string
  label: number
  split: Split
  /** Where the entry was listed. */
  file: string
  line?: number
  /** The encoded image, when the listing carries the pixels (FERPlus). */
  image?: Uint8Array
  /** Face box to cut out after decoding: x, y, width, height. */
  crop?: [number, number, number, number]
  /** Annotators' votes (Scan.voteNames). */
  votes?: Uint8Array
  /** A training entry of the dataset's own validation split. */
  validation?: boolean
}

export interface Scan {
  root: string
  format: DatasetIndex['format']
  classNames: string[]
  entries: Entry[]
  /** Problems found while reading the listing (their entries are already left out). */
  problems: Problem[]
  /** Whether to check that each entry is a regular file inside the root: false when the entries carry their pixels. */
  checkExistence: boolean
  /** What each entry's `votes` count. */
  voteNames?: string[]
  /** Rows the dataset's own rules leave out (not problems), e.g. "12 with no majority vote". */
  notes?: string[]
}

export interface ScanResult {
  train: DatasetSplit
  test: DatasetSplit
  /** Per training image: 1 for the dataset's own validation split; absent when it has none. */
  validationTrain?: Uint8Array
  /** Paths relative to the root, in the order of `train.paths` (computed on demand: most datasets never need them). */
  trainRelative: () => string[]
  /** Every problem, formatted; non-empty only with skipBad. */
  skipped: string[]
}

/** The split of `entries`, with the optional per-image arrays when the entries carry them. */
function splitOf(entries: Entry[]): DatasetSplit {
  const out: DatasetSplit = { paths: entries.map((e) => e.path), labels: Int32Array.from(entries, (e) => e.label) }
  if (entries.length > 0 && entries.every((e) => e.image !== undefined)) out.images = entries.map((e) => e.image!)
  if (entries.some((e) => e.crop !== undefined)) {
    out.crops = new Uint32Array(entries.length * 4)
    entries.forEach((e, i) => {
      if (e.crop) out.crops!.set(e.crop, i * 4)
    })
  }
  const width = entries.find((e) => e.votes)?.votes?.length
  if (width !== undefined) {
    out.votes = new Uint8Array(entries.length * width)
    entries.forEach((e, i) => {
      if (e.votes) out.votes!.set(e.votes, i * width)
    })
  }
  return out
}

/** Both paths absolute and normalised (as join and resolve leave them), so a prefix test suffices. */
function insideRoot(root: string): (path: string) => boolean {
  const prefix = root.endsWith(sep) ? root : root + sep
  return (path) => path.startsWith(prefix)
}

function where(e: Entry): string {
  return e.line === undefined ? e.file : `${e.file}:${e.line}`
}

export async function finishScan(scan: Scan, skipBad: boolean): Promise<ScanResult> {
  const problems = [...scan.problems]
  const firstSeen = new Map<string, Entry>()
  const candidates: Entry[] = []
  const inside = insideRoot(scan.root)
  for (const e of scan.entries) {
    if (!inside(e.path)) {
      problems.push({ file: e.file, line: e.line, message: `path ${e.shown} escapes the dataset root ${scan.root}` })
      continue
    }
    const first = firstSeen.get(e.path)
    if (first) {
      problems.push({ file: e.file, line: e.line, message: `duplicate entry for ${e.shown} (first at ${where(first)})` })
      continue
    }
    firstSeen.set(e.path, e)
    candidates.push(e)
  }

  let good = candidates
  if (scan.checkExistence) {
    const missing = await checkFiles(
      candidates.map((e) => e.path),
      scan.root,
    )
    good = []
    candidates.forEach((e, i) => {
      const why = missing[i]
      if (why?.startsWith('escapes')) problems.push({ file: e.file, line: e.line, message: `path ${e.shown} ${why}` })
      else if (why) problems.push({ file: e.file, line: e.line, message: e.file === e.path ? why : `${why}: ${e.path}` })
      else good.push(e)
    })
  }

  const formatted = sortProblems(problems).map(formatProblem)
  if (formatted.length > 0 && !skipBad) throw new DatasetError(scan.root, formatted)

  const split = (s: Split) => splitOf(good.filter((e) => e.split === s))
  const train = split('train')
  const test = split('test')
  const empty = [train.paths.length === 0 ? 'train' : null, test.paths.length === 0 ? 'test' : null].filter(Boolean)
  if (empty.length > 0) {
    const dropped = formatted.length > 0 ? ` after dropping ${formatted.length} bad entries` : ''
    throw new DatasetError(scan.root, [
      ...empty.map((s) => `${scan.root}: the ${s} split is empty${dropped}`),
      ...formatted,
    ])
  }
  const trainEntries = good.filter((e) => e.split === 'train')
  return {
    train,
    test,
    ...(trainEntries.some((e) => e.validation)
      ? { validationTrain: Uint8Array.from(trainEntries, (e) => (e.validation ? 1 : 0)) }
      : {}),
    trainRelative: () => train.paths.map((p) => relative(scan.root, p)),
    skipped: formatted,
  }
}
