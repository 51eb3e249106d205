/**
 * FERPlus: the FER2013 faces (`fer2013.csv`: `emotion,pixels,Usage`, 48×48
 * grey pixels as space-separated numbers) with the FER+ labels
 * (`fer2013new.csv`: `Usage,Image name,neutral,happiness,surprise,sadness,
 * anger,disgust,fear,contempt,unknown,NF`, ten annotators' votes per image),
 * joined row by row as the FERPlus authors' generate_training_data.py does.
 *
 * Labels follow the authors' "majority" mode (src/ferplus.py, `_process_data`
 * then `load_folders`):
 *   1. a row whose `Image name` is empty is left out (FER+ gives it no image);
 *   2. every count of a single vote is set to 0 (their outlier removal);
 *   3. the label is the column holding more than half of the remaining votes;
 *      without such a column (a tie, a plurality, or no votes left) the row is
 *      left out;
 *   4. a majority for `unknown` or `NF` (not a face) leaves the row out.
 * Eight classes remain: Neutral, Happiness, Surprise, Sadness, Anger,
 * Disgust, Fear, Contempt. Each kept image keeps its ten raw vote counts
 * (`votes`, before step 2) for measuring annotator disagreement.
 *
 * Splits as the files say: Training trains, PrivateTest is the test split,
 * PublicTest (the authors' FER2013Valid) is the validation split used for
 * model selection. Pixels become in-memory PNGs: nothing is written to disk.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { splitCsvLine } from './csv.ts'
import { isFile } from './fs-kind.ts'
import { forEachLine } from './lines.ts'
import { encodeGreyPng } from './png.ts'
import { dataError } from './problems.ts'
import type { Entry, Scan } from './scan.ts'

export const FERPLUS_CLASSES = ['Neutral', 'Happiness', 'Surprise', 'Sadness', 'Anger', 'Disgust', 'Fear', 'Contempt']
export const FERPLUS_VOTE_NAMES = [...FERPLUS_CLASSES, 'Unknown', 'Not a face']
const VOTE_COLUMNS = ['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt', 'unknown', 'nf']
const SIDE = 48

export const FER_FILE = 'fer2013.csv'
export const FERPLUS_FILE = 'fer2013new.csv'

export interface FerplusFiles {
  root: string
  fer: string
  ferplus: string
}

/** `dir/fer2013new.csv` with `dir/fer2013.csv` (or `dir/fer2013/fer2013.csv`, as Kaggle's archive unpacks). */
export async function findFerplusFiles(dir: string): Promise<FerplusFiles | null> {
  const ferplus = join(dir, FERPLUS_FILE)
  if (!(await isFile(ferplus))) return null
  for (const fer of [join(dir, FER_FILE), join(dir, 'fer2013', FER_FILE)]) {
    if (await isFile(fer)) return { root: dir, fer, ferplus }
  }
  return null
}

export type FerplusVerdict = number | 'no majority' | 'unknown' | 'not a face'

/** The majority rule above (steps 2-4) on the ten counts of one image: a class index, or why it is left out. */
export function ferplusMajority(votes: ArrayLike<number>): FerplusVerdict {
  let sum = 0
  let max = 0
  let argmax = -1
  for (let i = 0; i < VOTE_COLUMNS.length; i++) {
    const v = votes[i]! <= 1 ? 0 : votes[i]!
    sum += v
    if (v > max) {
      max = v
      argmax = i
    }
  }
  if (!(max > 0.5 * sum)) return 'no majority'
  if (argmax === 8) return 'unknown'
  if (argmax === 9) return 'not a face'
  return argmax
}

const USAGES = new Set(['Training', 'PublicTest', 'PrivateTest'])

interface LabelRow {
  line: number
  usage: string
  name: string
  votes: Uint8Array
}

/** Column positions from a header row, by name (case-insensitive); the missing ones listed. */
function columnsOf(header: string[], wanted: string[]): { at: number[]; missing: string[] } {
  const lower = header.map((h) => h.toLowerCase())
  const at = wanted.map((w) => lower.indexOf(w))
  return { at, missing: wanted.filter((_, i) => at[i]! < 0) }
}

/** fer2013new.csv, whole (a few MB); null entries are rows with a problem (already reported). */
async function readLabels(file: string, scan: Scan): Promise<Array<LabelRow | null>> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw dataError(`cannot read the FERPlus label file ${file}: ${(err as Error).message}`, err)
  }
  const lines = text.replace(/^\uFEFF/, '').split('\n')
  const header = splitCsvLine(lines[0]!.trim()) ?? []
  const { at, missing } = columnsOf(header, ['usage', 'image name', ...VOTE_COLUMNS])
  if (missing.length > 0) {
    throw dataError(`${file}:1: not a FERPlus label file: the header lacks ${missing.join(', ')} (expected Usage,Image name,${VOTE_COLUMNS.join(',')})`)
  }
  const rows: Array<LabelRow | null> = []
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]!.trim()
    if (raw === '') continue
    const problem = (message: string) => {
      scan.problems.push({ file, line: i + 1, message })
      rows.push(null)
    }
    const fields = splitCsvLine(raw)
    if (!fields || fields.length < header.length) {
      problem(`malformed line (expected ${header.length} fields: ${header.join(',')}): ${JSON.stringify(raw)}`)
      continue
    }
    const usage = fields[at[0]!]!
    if (!USAGES.has(usage)) {
      problem(`unknown Usage ${JSON.stringify(usage)} (expected Training, PublicTest or PrivateTest)`)
      continue
    }
    const votes = new Uint8Array(VOTE_COLUMNS.length)
    const bad = VOTE_COLUMNS.findIndex((_, c) => {
      const v = fields[at[c + 2]!]!
      if (!/^\d+$/.test(v) || Number(v) > 255) return true
      votes[c] = Number(v)
      return false
    })
    if (bad >= 0) {
      problem(`${header[at[bad + 2]!]} must be a vote count, got ${JSON.stringify(fields[at[bad + 2]!])}`)
      continue
    }
    rows.push({ line: i + 1, usage, name: fields[at[1]!]!, votes })
  }
  return rows
}

/** 48×48 numbers 0-255 separated by spaces, or why not. */
export function parsePixels(text: string): Uint8Array | string {
  const out = new Uint8Array(SIDE * SIDE)
  let n = 0
  let value = -1
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32
    if (c >= 48 && c <= 57) {
      value = (value < 0 ? 0 : value * 10) + (c - 48)
      if (value > 255) return `pixel ${n + 1} is over 255`
    } else if (c === 32 || c === 9) {
      if (value >= 0) {
        if (n === out.length) return `more than ${SIDE}x${SIDE} = ${out.length} pixels`
        out[n++] = value
        value = -1
      }
    } else {
      return `pixel ${n + 1} is not a number 0-255 (${JSON.stringify(text.slice(Math.max(0, i - 3), i + 4))})`
    }
  }
  return n === out.length ? out : `${n} pixels, expected ${SIDE}x${SIDE} = ${out.length}`
}

export async function scanFerplus(files: FerplusFiles): Promise<Scan> {
  const scan: Scan = {
    root: files.root,
    format: 'ferplus',
    classNames: [...FERPLUS_CLASSES],
    entries: [],
    problems: [],
    checkExistence: false,
    voteNames: [...FERPLUS_VOTE_NAMES],
  }
  const labels = await readLabels(files.ferplus, scan)
  const left = { 'no image name': 0, 'no majority': 0, unknown: 0, 'not a face': 0 }
  let columns: { pixels: number; usage: number } | null = null
  let row = 0
  await forEachLine(files.fer, 'FER2013 file', (text, line) => {
    const raw = text.trim()
    if (raw === '') return
    const problem = (message: string) => scan.problems.push({ file: files.fer, line, message })
    if (columns === null) {
      const { at, missing } = columnsOf(splitCsvLine(raw) ?? [], ['pixels', 'usage'])
      if (missing.length > 0) throw dataError(`${files.fer}:${line}: not fer2013.csv: the header lacks ${missing.join(', ')} (expected emotion,pixels,Usage)`)
      columns = { pixels: at[0]!, usage: at[1]! }
      return
    }
    const index = row++
    if (index >= labels.length) {
      if (index === labels.length) problem(`${files.ferplus} ends after ${labels.length} rows; this file has more (rows must match one to one)`)
      return
    }
    const label = labels[index]
    if (!label) return
    const fields = raw.split(',')
    const usage = fields[columns.usage]?.trim()
    const pixelText = fields[columns.pixels]
    if (usage === undefined || pixelText === undefined) {
      problem(`malformed line (expected emotion,pixels,Usage)`)
      return
    }
    if (usage !== label.usage) {
      problem(`Usage ${JSON.stringify(usage)} differs from ${JSON.stringify(label.usage)} on line ${label.line} of ${files.ferplus} (the files must be in the same order)`)
      return
    }
    if (label.name === '') {
      left['no image name']++
      return
    }
    const verdict = ferplusMajority(label.votes)
    if (typeof verdict === 'string') {
      left[verdict]++
      return
    }
    const pixels = parsePixels(pixelText.replace(/^"|"$/g, ''))
    if (typeof pixels === 'string') {
      problem(`malformed pixels: ${pixels}`)
      return
    }
    scan.entries.push({
      path: join(files.root, label.name),
      shown: label.name,
      label: verdict,
      split: label.usage === 'PrivateTest' ? 'test' : 'train',
      file: files.ferplus,
      line: label.line,
      image: encodeGreyPng(pixels, SIDE, SIDE),
      votes: label.votes,
      ...(label.usage === 'PublicTest' ? { validation: true } : {}),
    } satisfies Entry)
  })
  if (columns === null) throw dataError(`${files.fer}: empty file (expected a header emotion,pixels,Usage and one row per image)`)
  if (row < labels.length) {
    scan.problems.push({
      file: files.ferplus,
      line: labels.slice(row).find((l) => l !== null)?.line,
      message: `${files.fer} ends after ${row} rows; this file has ${labels.length} (rows must match one to one)`,
    })
  }
  const total = Object.values(left).reduce((a, b) => a + b, 0)
  if (total > 0) {
    const parts = Object.entries(left).filter(([, n]) => n > 0).map(([why, n]) => `${n} ${why === 'no image name' ? 'without an image name' : why === 'no majority' ? 'without a majority' : `mostly ${why}`}`)
    scan.notes = [`FERPlus majority rule left out ${total} of ${labels.length} rows: ${parts.join(', ')}`]
  }
  return scan
}
