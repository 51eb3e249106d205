/** Tells which adapter a dataset path needs, and where its root is. */
import { readdir } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { dataError } from './problems.ts'
import { findRafdbRoot } from './rafdb.ts'
import { isDir, isFile } from './fs-kind.ts'

export type ConcreteFormat = 'rafdb' | 'folder' | 'csv'

export interface Located {
  format: ConcreteFormat
  /** The dataset root (rafdb, folder) or the CSV file (csv). */
  path: string
}

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
    `cannot tell the format of the dataset at ${path}: expected EmoLabel/ (RAF-DB), ` +
      'train/<class>/ and test/<class>/ (image folders) or a .csv file; or pass the format explicitly',
  )
}
