/**
 * Dataset adapters: RAF-DB, image folders, CSV. Each produces a DatasetIndex.
 * STUB: being written (issue: datasets and CLI).
 */
import { ManError } from '../errors.ts'
import type { DatasetIndex } from './types.ts'

export type DatasetFormat = 'auto' | 'rafdb' | 'folder' | 'csv'

export interface LoadDatasetOptions {
  path: string
  format: DatasetFormat
  /** Drop bad entries (listed in the result) instead of failing. */
  skipBad: boolean
}

export interface LoadedDataset {
  index: DatasetIndex
  /** Entries dropped with skipBad, each "file:line: problem". */
  skipped: string[]
}

export async function loadDataset(options: LoadDatasetOptions): Promise<LoadedDataset> {
  throw new ManError('ERR_MAN_DATA', `dataset adapters are not implemented yet (${options.path})`)
}
