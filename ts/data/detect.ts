/** Tells which adapter a dataset path needs, and where its root is. */
import { readdir } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { dataError } from './problems.ts'
import { findRafdbRoot } from './rafdb.ts'
import { findAffectnetFiles, type AffectnetFiles } from './affectnet.ts'
import { findFerplusFiles, type FerplusFiles } from './ferplus.ts'
import { isDir, isFile } from './fs-kind.ts'

export type ConcreteFormat = 'rafdb' | 'folder' | 'csv' | 'ferplus' | 'affectnet'

export type Located =
  | {
      format: 'rafdb' | 'folder' | 'csv'
      /** The dataset root (rafdb, folder) or the CSV file (csv). */
      path: string
    }
  | { format: 'ferplus'; path: string; files: FerplusFiles }
  /** `files` null: AffectNet as image folders (train/<class>/...). */
  | { format: 'affectnet'; path: string; files: AffectnetFiles | null }

/** The CSV a path names: the file itself, or the only .csv in a folder. */
async function findCsv(path: string): Promise<string | null> {
  if (await isFile(path)) return extname(path).toLowerCase() === '.csv' ? path : null
  if (!(await isDir(path))) return null
  const csvs = (await readdir(path)).filter((n) => extname(n).toLowerCase() === '.csv')
  if (csvs.length > 1) throw dataError(`${path}: several CSV files (${csvs.sort().join(', ')}); name the one to use`)
  return csvs.length === 1 ? join(path, csvs[0]!) : null
}

export async function locateDataset(path: string, format: ConcreteFormat | 'auto'): Promise<Located> {
  if (!(await isFile(path)) && !(await isDir(path))) throw dataError(`dataset path ${path} does not exist`)
  if ((format === 'ferplus' || format === 'auto') && (await isDir(path))) {
    const files = await findFerplusFiles(path)
    if (files) return { format: 'ferplus', path, files }
  }
  if (format === 'ferplus') throw dataError(`${path}: not a FERPlus folder (expected fer2013new.csv with fer2013.csv, or fer2013/fer2013.csv, beside it)`)
  if ((format === 'affectnet' || format === 'auto') && (await isDir(path))) {
    const files = await findAffectnetFiles(path)
    if (files) return { format: 'affectnet', path, files }
    if (format === 'affectnet' && (await isDir(join(path, 'train')))) return { format: 'affectnet', path, files: null }
  }
  if (format === 'affectnet') {
    throw dataError(`${path}: not an AffectNet folder (expected training.csv and validation.csv, there or in Manually_Annotated_file_lists/, or train/<class>/ folders)`)
  }
  if (format === 'rafdb' || format === 'auto') {
    const root = await findRafdbRoot(path)
    if (root) return { format: 'rafdb', path: root }
    if (format === 'rafdb') throw dataError(`${path}: not a RAF-DB folder (no EmoLabel/ in it or in its basic/ folder)`)
  }
  if (format === 'folder' || format === 'auto') {
    if (await isDir(join(path, 'train'))) return { format: 'folder', path }
    if (format === 'folder') throw dataError(`${path}: not an image-folder dataset (no train/<class>/ folders)`)
  }
  const csv = await findCsv(path)
  if (csv) return { format: 'csv', path: csv }
  if (format === 'csv') throw dataError(`${path}: no CSV file (give the .csv, or a folder holding exactly one)`)
  throw dataError(
    `cannot tell the format of the dataset at ${path}: expected EmoLabel/ (RAF-DB), fer2013.csv with fer2013new.csv (FERPlus), ` +
      'training.csv with validation.csv (AffectNet), train/<class>/ and test/<class>/ (image folders) or a .csv file; ' +
      'or pass the format explicitly',
  )
}
