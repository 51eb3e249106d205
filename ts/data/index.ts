/**
 * Dataset adapters: RAF-DB, image folders, CSV. Each produces a DatasetIndex.
 *
 * `format: 'auto'` looks, in order, for EmoLabel/ (RAF-DB; also in basic/, or
 * when the path is EmoLabel/ or its label file), train/ (image folders), then a
 * .csv (the path itself or the only one in the folder).
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
import { DEFAULT_MAX_CLASSES, scanCsv } from './csv.ts'
import { ManError } from '../errors.ts'
import { dataError } from './problems.ts'
import { scanFolder } from './folder.ts'
import { scanRafdb } from './rafdb.ts'
import { finishScan, type Scan } from './scan.ts'
import { loadTrainTruth, SYNTHETIC_GENERATOR } from './truth.ts'
import type { DatasetIndex } from './types.ts'

export type DatasetFormat = 'auto' | 'rafdb' | 'folder' | 'csv'

export interface LoadDatasetOptions {
  path: string
  format: DatasetFormat
  /** Drop bad entries (listed in the result) instead of failing. */
  skipBad: boolean
  /** Most classes the listing may declare; default 1000. A CSV label at or over it is a bad entry. */
  maxClasses?: number
}

export interface LoadedDataset {
  index: DatasetIndex
  /** Entries dropped with skipBad, each "file:line: problem". */
  skipped: string[]
}

export async function loadDataset(options: LoadDatasetOptions): Promise<LoadedDataset> {
  if (typeof options !== 'object' || options === null || typeof options.path !== 'string' || options.path === '') {
    throw new ManError('ERR_MAN_ARGUMENT', 'loadDataset: options.path must be a non-empty string (the dataset root or CSV)')
  }
  const maxClasses = options.maxClasses ?? DEFAULT_MAX_CLASSES
  if (!Number.isInteger(maxClasses) || maxClasses < 2) {
    throw new ManError('ERR_MAN_ARGUMENT', `loadDataset: maxClasses must be an integer ≥ 2, got ${String(options.maxClasses)}`)
  }
  const located = await locateDataset(resolve(options.path), options.format)
  let scan: Scan
  if (located.format === 'rafdb') scan = await scanRafdb(located.path)
  else if (located.format === 'folder') scan = await scanFolder(located.path)
  else scan = await scanCsv(located.path, maxClasses)
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
  if (truth) {
    index.trueTrainLabels = truth.trueTrainLabels
    index.ambiguousTrain = truth.ambiguousTrain
  }
  return { index, skipped: result.skipped }
}

export { DatasetError } from './problems.ts'
export { RAFDB_CLASSES } from './rafdb.ts'
