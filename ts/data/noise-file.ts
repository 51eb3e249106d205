/**
 * The record of an injected noise run, as JSON, so that a run directory can
 * say which labels were flipped and score the co-division against them later.
 */
import { readFile } from 'node:fs/promises'
import { ManError } from '../errors.ts'
import { writeFileAtomic } from './atomic-write.ts'

export interface NoiseRecord {
  numClasses: number
  rate: number
  seed: number
  /** Indices of the flipped training samples, ascending. */
  flipped: Uint32Array
  /** The labels before the noise, when known. */
  trueLabels?: Int32Array
}

export async function writeNoiseRecord(path: string, record: NoiseRecord): Promise<void> {
  const json = {
    version: 1,
    numClasses: record.numClasses,
    rate: record.rate,
    seed: record.seed,
    flipped: Array.from(record.flipped),
    ...(record.trueLabels ? { trueLabels: Array.from(record.trueLabels) } : {}),
  }
  await writeFileAtomic(path, `${JSON.stringify(json)}\n`)
}

function isIntArray(v: unknown, min: number, max: number): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= min && x < max)
}

export async function readNoiseRecord(path: string): Promise<NoiseRecord> {
  let json: Record<string, unknown>
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
  } catch (err) {
    throw new ManError('ERR_MAN_DATA', `${path}: cannot read the noise record: ${(err as Error).message}`, {
      cause: err,
    })
  }
  const bad = (what: string) => new ManError('ERR_MAN_DATA', `${path}: ${what}`)
  if (json === null || typeof json !== 'object' || json.version !== 1) throw bad('not a version 1 noise record')
  const { numClasses, rate, seed, flipped, trueLabels } = json
  if (!Number.isInteger(numClasses) || (numClasses as number) < 2) throw bad('numClasses must be an integer >= 2')
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw bad('rate must be a number in [0, 1)')
  if (!Number.isInteger(seed)) throw bad('seed must be an integer')
  if (!isIntArray(flipped, 0, 2 ** 32)) throw bad('flipped must be an array of sample indices')
  for (let i = 1; i < flipped.length; i++) {
    if (flipped[i]! <= flipped[i - 1]!) throw bad('flipped must be strictly ascending')
  }
  if (trueLabels !== undefined && !isIntArray(trueLabels, 0, numClasses as number)) {
    throw bad(`trueLabels must be an array of labels in [0, ${numClasses})`)
  }
  return {
    numClasses: numClasses as number,
    rate,
    seed: seed as number,
    flipped: Uint32Array.from(flipped),
    ...(trueLabels !== undefined ? { trueLabels: Int32Array.from(trueLabels) } : {}),
  }
}
