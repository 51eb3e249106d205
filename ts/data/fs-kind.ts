/** Small stat helpers that answer false instead of throwing for missing paths. */
import { stat } from 'node:fs/promises'

export async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false)
}

export async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false)
}
