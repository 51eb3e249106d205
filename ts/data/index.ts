/**
 * Dataset adapters: RAF-DB, FERPlus, AffectNet, image folders, CSV. Each
 * produces a DatasetIndex.
 *
 * `format: 'auto'` looks, in order, for fer2013new.csv beside fer2013.csv
 * (FERPlus), training.csv with validation.csv (AffectNet), EmoLabel/ (RAF-DB;
 * also in basic/, or when the path is EmoLabel/ or its label file), train/
 * (image folders), then a .csv (the path itself or the only one in the folder).
 *
 * A scan collects every problem (malformed lines, unknown labels, missing
 * files, duplicates, paths escaping the root) and fails once with all of them
 * (a DatasetError, code ERR_MAN_DATA, `problems` listing each "file:line:
 * problem"); with skipBad it drops those entries and returns them in
 * `skipped`. An empty train or test split is always an error.
 *
 * When a `truth.json` (see ./truth.ts; the synthetic set writes one) sits at
 * the dataset root, the true labels of the training images are returned in
 * `index.trueTrainLabels` and the deliberately ambiguous ones in
 * `index.ambiguousTrain`; a truth file written by the synthesizer also marks the
 * index's format as 'synthetic'.
 */
import { resolve } from 'node:path'
import { locateDataset } from './detect.ts'
import { DATA_LIMITS } from '../config/schema.ts'
import { scanCsv } from './csv.ts'
import { ManError } from '../errors.ts'
import { scanFolder } from './folder.ts'
import { scanRafdb } from './rafdb.ts'
import { scanAffectnet, scanAffectnetFolders, type AffectnetClasses } from './affectnet.ts'
import { scanFerplus } from './ferplus.ts'
import { dataError } from './problems.ts'
import { finishScan, type Scan } from './scan.ts'
import { loadTrainTruth, SYNTHETIC_GENERATOR } from './truth.ts'
import type { DatasetIndex } from './types.ts'

export type DatasetFormat = 'auto' | 'rafdb' | 'folder' | 'csv' | 'ferplus' | 'affectnet'

export interface LoadDatasetOptions {
  path: string
  format: DatasetFormat
  /** Drop bad entries (listed in the result) instead of failing. */
  skipBad: boolean
  /** AffectNet's protocol: 8 classes (default) or 7 (without Contempt). Other formats refuse it. */
  classes?: AffectnetClasses
  /** AffectNet: cut each image to its face box from the manifest. Other formats refuse it. */
  crop?: boolean
  /** Most classes the listing may declare; default 1000. A CSV label at or over it is a bad entry. */
  maxClasses?: number
}

export interface LoadedDataset {
  index: DatasetIndex
  /** Entries dropped with skipBad, each "file:line: problem". */
  skipped: string[]
  /** What the format's own rules left out (FERPlus's majority vote, AffectNet's non-emotion codes), one line each. */
  notes: string[]
}

export async function loadDataset(options: LoadDatasetOptions): Promise<LoadedDataset> {
  if (typeof options !== 'object' || options === null || typeof options.path !== 'string' || options.path === '') {
    throw new ManError('ERR_MAN_ARGUMENT', 'loadDataset: options.path must be a non-empty string (the dataset root or CSV)')
  }
  const maxClasses = options.maxClasses ?? DATA_LIMITS.maxClasses
  if (!Number.isInteger(maxClasses) || maxClasses < 2) {
    throw new ManError('ERR_MAN_ARGUMENT', `loadDataset: maxClasses must be an integer ≥ 2, got ${String(options.maxClasses)}`)
  }
  const located = await locateDataset(resolve(options.path), options.format)
  if (located.format !== 'affectnet') {
    if (options.classes !== undefined) throw dataError(`${located.path}: data.classes picks AffectNet's 7- or 8-class protocol; this is a ${located.format} dataset`)
    if (options.crop) throw dataError(`${located.path}: data.crop cuts AffectNet images to their face boxes; this is a ${located.format} dataset`)
  }
  let scan: Scan
  if (located.format === 'rafdb') scan = await scanRafdb(located.path)
  else if (located.format === 'folder') scan = await scanFolder(located.path)
  else if (located.format === 'ferplus') scan = await scanFerplus(located.files)
  else if (located.format === 'affectnet') {
    const affectnet = { classes: options.classes ?? 8, crop: options.crop ?? false }
    scan = located.files ? await scanAffectnet(located.files, affectnet) : await scanAffectnetFolders(located.path, affectnet)
  } else scan = await scanCsv(located.path, maxClasses)
  if (scan.classNames.length > maxClasses) {
    throw dataError(`${located.path}: ${scan.classNames.length} classes, over the limit of ${maxClasses} (data.maxClasses)`)
  }

  const result = await finishScan(scan, options.skipBad)
  const truth = await loadTrainTruth(scan.root, scan.classNames, result.trainRelative)
  const index: DatasetIndex = {
    root: scan.root,
    format: truth?.generator === SYNTHETIC_GENERATOR ? 'synthetic' : scan.format,
    classNames: scan.classNames,
    train: result.train,
    test: result.test,
  }
  if (result.validationTrain) index.validationTrain = result.validationTrain
  if (scan.voteNames) index.voteNames = scan.voteNames
  if (truth) {
    index.trueTrainLabels = truth.trueTrainLabels
    index.ambiguousTrain = truth.ambiguousTrain
  }
  return { index, skipped: result.skipped, notes: scan.notes ?? [] }
}

export { DatasetError } from './problems.ts'
export { RAFDB_CLASSES } from './rafdb.ts'
export { AFFECTNET_CLASSES } from './affectnet.ts'
export { FERPLUS_CLASSES, FERPLUS_VOTE_NAMES, ferplusMajority } from './ferplus.ts'
