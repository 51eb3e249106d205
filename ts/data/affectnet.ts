/**
 * AffectNet as distributed: the manifests `training.csv` and `validation.csv`
 * (in the dataset folder or its `Manually_Annotated_file_lists/`), one image a
 * row with the columns `subDirectory_filePath, face_x, face_y, face_width,
 * face_height, facial_landmarks, expression, valence, arousal`, and the images
 * under `Manually_Annotated_Images/` (or `Manually_Annotated_compressed/
 * Manually_Annotated_Images/`, or the folder itself).
 *
 * `expression` codes: 0 Neutral, 1 Happy, 2 Sad, 3 Surprise, 4 Fear,
 * 5 Disgust, 6 Anger, 7 Contempt, 8 None, 9 Uncertain, 10 Non-Face. Codes
 * 8-10 are not emotions and are left out; the 8-class protocol keeps 0-7, the
 * 7-class protocol also leaves out Contempt. Labels are the codes. The
 * validation set (AffectNet's test set is not public) is the test split, as in
 * the literature.
 *
 * With `crop`, each image is cut to its face box after decoding (for the
 * original, uncropped images; the commonly shared copies are already cropped).
 *
 * The folder-per-class copies people share (`train/<class>/`, `val/<class>/`,
 * class folders named by code `0`-`7` or by name) go through the folder
 * adapter, then the same protocol.
 */
import { join, resolve } from 'node:path'
import { splitCsvLine } from './csv.ts'
import { scanFolder } from './folder.ts'
import { isDir, isFile } from './fs-kind.ts'
import { forEachLine } from './lines.ts'
import { dataError } from './problems.ts'
import type { Entry, Scan } from './scan.ts'
import type { Split } from './types.ts'

export const AFFECTNET_CLASSES = ['Neutral', 'Happy', 'Sad', 'Surprise', 'Fear', 'Disgust', 'Anger', 'Contempt']
const NON_EMOTIONS = ['None', 'Uncertain', 'Non-Face']
const CONTEMPT = 7

export type AffectnetClasses = 7 | 8

export interface AffectnetOptions {
  classes: AffectnetClasses
  crop: boolean
}

export interface AffectnetFiles {
  root: string
  training: string
  validation: string
  /** Where `subDirectory_filePath` is relative to. */
  images: string
}

const LIST_DIRS = ['', 'Manually_Annotated_file_lists']
const IMAGE_DIRS = ['Manually_Annotated_Images', join('Manually_Annotated_compressed', 'Manually_Annotated_Images')]

export async function findAffectnetFiles(dir: string): Promise<AffectnetFiles | null> {
  for (const sub of LIST_DIRS) {
    const training = join(dir, sub, 'training.csv')
    const validation = join(dir, sub, 'validation.csv')
    if (!(await isFile(training)) || !(await isFile(validation))) continue
    let images = dir
    for (const d of IMAGE_DIRS) {
      if (await isDir(join(dir, d))) {
        images = join(dir, d)
        break
      }
    }
    return { root: dir, training, validation, images }
  }
  return null
}

/** Code 0-10 → what it is: a class index, or left out (and why). */
function protocol(code: number, classes: AffectnetClasses): number | string {
  if (code > CONTEMPT) return NON_EMOTIONS[code - CONTEMPT - 1]!
  if (code === CONTEMPT && classes === 7) return 'Contempt (7-class protocol)'
  return code
}

function leftOutNote(counts: Map<string, number>, total: number): string[] {
  if (counts.size === 0) return []
  const parts = [...counts].map(([why, n]) => `${n} ${why}`)
  const n = [...counts.values()].reduce((a, b) => a + b, 0)
  return [`AffectNet protocol left out ${n} of ${total} images: ${parts.join(', ')}`]
}

const COLUMNS = ['subdirectory_filepath', 'expression', 'face_x', 'face_y', 'face_width', 'face_height']

async function readManifest(file: string, split: Split, files: AffectnetFiles, options: AffectnetOptions, scan: Scan, left: Map<string, number>): Promise<number> {
  let at: number[] | null = null
  let rows = 0
  await forEachLine(file, 'AffectNet manifest', (text, line) => {
    const raw = text.trim()
    if (raw === '') return
    const problem = (message: string) => scan.problems.push({ file, line, message })
    const fields = splitCsvLine(raw)
    if (at === null) {
      const lower = (fields ?? []).map((f) => f.toLowerCase())
      at = COLUMNS.map((c) => lower.indexOf(c))
      const need = options.crop ? COLUMNS : COLUMNS.slice(0, 2)
      const missing = need.filter((c) => lower.indexOf(c) < 0)
      if (missing.length > 0) {
        throw dataError(`${file}:${line}: not an AffectNet manifest: the header lacks ${missing.join(', ')}${options.crop ? ' (the face box is needed to crop)' : ''}`)
      }
      return
    }
    rows++
    if (!fields || fields.length <= Math.max(...at)) {
      problem(`malformed line (fewer fields than the header names): ${JSON.stringify(raw.slice(0, 120))}`)
      return
    }
    const [pathAt, codeAt] = at as [number, number]
    const sub = fields[pathAt]!
    const codeText = fields[codeAt]!
    if (sub === '') {
      problem('malformed line (empty subDirectory_filePath)')
      return
    }
    if (!/^\d+$/.test(codeText) || Number(codeText) > 10) {
      problem(`unknown expression ${JSON.stringify(codeText)} for ${sub} (AffectNet codes are 0-10)`)
      return
    }
    const label = protocol(Number(codeText), options.classes)
    if (typeof label === 'string') {
      left.set(label, (left.get(label) ?? 0) + 1)
      return
    }
    const entry: Entry = { path: resolve(files.images, sub), shown: sub, label, split, file, line }
    if (options.crop) {
      const box = at.slice(2).map((i) => Number(fields[i]))
      if (!box.every((v) => Number.isFinite(v) && v >= 0) || box[2]! < 1 || box[3]! < 1) {
        problem(`bad face box for ${sub} (face_x, face_y >= 0, face_width, face_height >= 1): ${at.slice(2).map((i) => fields[i]).join(', ')}`)
        return
      }
      entry.crop = box.map((v) => Math.round(v)) as [number, number, number, number]
    }
    scan.entries.push(entry)
  })
  if (at === null) throw dataError(`${file}: empty manifest (expected a header and one row per image)`)
  return rows
}

export async function scanAffectnet(files: AffectnetFiles, options: AffectnetOptions): Promise<Scan> {
  const scan: Scan = {
    root: files.root,
    format: 'affectnet',
    classNames: AFFECTNET_CLASSES.slice(0, options.classes),
    entries: [],
    problems: [],
    checkExistence: true,
  }
  const left = new Map<string, number>()
  const rows =
    (await readManifest(files.training, 'train', files, options, scan, left)) +
    (await readManifest(files.validation, 'test', files, options, scan, left))
  scan.notes = leftOutNote(left, rows)
  return scan
}

/** A class folder's name → its AffectNet code: the code itself, or a name as the shared copies spell it. */
const FOLDER_CODES: Record<string, number> = {
  neutral: 0, happy: 1, happiness: 1, sad: 2, sadness: 2, surprise: 3, surprised: 3, fear: 4, fearful: 4,
  disgust: 5, disgusted: 5, anger: 6, angry: 6, contempt: 7, none: 8, uncertain: 9, 'non-face': 10, nonface: 10, no_face: 10,
}

function folderCode(name: string): number | undefined {
  if (/^\d+$/.test(name) && Number(name) <= 10) return Number(name)
  return FOLDER_CODES[name.toLowerCase()]
}

/** `train/<class>/`, `val/<class>/` (or test/), class folders named by code or by name. */
export async function scanAffectnetFolders(root: string, options: AffectnetOptions): Promise<Scan> {
  if (options.crop) throw dataError(`${root}: crop needs the face boxes of AffectNet's manifests (training.csv, validation.csv); image folders have none`)
  const folders = await scanFolder(root)
  const scan: Scan = { ...folders, format: 'affectnet', classNames: AFFECTNET_CLASSES.slice(0, options.classes), entries: [] }
  const left = new Map<string, number>()
  const reported = new Set<string>()
  for (const e of folders.entries) {
    const folder = folders.classNames[e.label]!
    const code = folderCode(folder)
    if (code === undefined) {
      if (!reported.has(folder)) {
        reported.add(folder)
        scan.problems.push({ file: join(root, 'train', folder), message: `unknown AffectNet class folder ${JSON.stringify(folder)} (expected a code 0-10 or a name such as Happy)` })
      }
      continue
    }
    const label = protocol(code, options.classes)
    if (typeof label === 'string') left.set(label, (left.get(label) ?? 0) + 1)
    else scan.entries.push({ ...e, label })
  }
  scan.notes = leftOutNote(left, folders.entries.length)
  return scan
}
