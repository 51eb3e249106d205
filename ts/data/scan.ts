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
}

export interface Scan {
  root: string
  format: DatasetIndex['format']
  classNames: string[]
  entries: Entry[]
  /** Problems found while reading the listing (their entries are already left out). */
  problems: Problem[]
  /** Whether to check that each entry is a regular file inside the root (always, in practice; a fake scan may skip it). */
  checkExistence: boolean
}

export interface ScanResult {
  train: DatasetSplit
  test: DatasetSplit
  /** Paths relative to the root, in the order of `train.paths` (computed on demand: most datasets never need them). */
  trainRelative: () => string[]
  /** Every problem, formatted; non-empty only with skipBad. */
  skipped: string[]
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

  const split = (s: Split) => {
    const es = good.filter((e) => e.split === s)
    return { paths: es.map((e) => e.path), labels: Int32Array.from(es, (e) => e.label) }
  }
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
  return {
    train: { paths: train.paths, labels: train.labels },
    test: { paths: test.paths, labels: test.labels },
    trainRelative: () => train.paths.map((p) => relative(scan.root, p)),
    skipped: formatted,
  }
}
