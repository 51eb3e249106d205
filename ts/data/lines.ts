/**
 * Line-by-line reading of large listings (FERPlus's fer2013.csv is ~300 MB of
 * text, AffectNet's training.csv ~400 MB): one line in memory at a time,
 * instead of one string the size of the file, which V8 may refuse.
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { dataError } from './problems.ts'

/** Calls `onLine` with each line (BOM and CR stripped) and its 1-based number. */
export async function forEachLine(file: string, what: string, onLine: (text: string, line: number) => void): Promise<void> {
  const input = createReadStream(file, { encoding: 'utf8' })
  const lines = createInterface({ input, crlfDelay: Infinity })
  let n = 0
  try {
    for await (const text of lines) {
      n++
      onLine(n === 1 ? text.replace(/^\uFEFF/, '') : text, n)
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MAN_DATA') throw err
    throw dataError(`cannot read the ${what} ${file}: ${(err as Error).message}`, err)
  } finally {
    lines.close()
    input.destroy()
  }
}
