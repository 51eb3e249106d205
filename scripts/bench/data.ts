/** The benchmark's images: a synthetic RAF-DB-like set cached under .cache/bench-data, or a given dataset. */
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import path from 'node:path'

import { loadDataset } from '../../ts/data/index.ts'
import { RAFDB_PARTITION_FILE } from '../../ts/data/rafdb.ts'
import type { DatasetIndex } from '../../ts/data/types.ts'
import { synthesize } from '../../ts/synth/index.ts'
import { note } from './measure.ts'

export interface BenchData {
  index: DatasetIndex
  /** Where it came from, for the report. */
  source: string
}

/** RAF-DB's aligned faces are 100×100; the synthetic set uses the same size. */
const SYNTH_SIZE = 100

export async function benchData(root: string, given: string | undefined, train: number, test: number): Promise<BenchData> {
  if (given !== undefined) {
    const { index } = await loadDataset({ path: given, format: 'auto', skipBad: true })
    return { index, source: path.resolve(given) }
  }
  const dir = path.join(root, '.cache', 'bench-data', `synth-${train}-${test}-${SYNTH_SIZE}px`)
  // synthesize writes the label file last: without it the set is incomplete.
  if (!existsSync(path.join(dir, RAFDB_PARTITION_FILE))) {
    note(`writing a synthetic set of ${train}+${test} images to ${dir}`)
    await rm(dir, { recursive: true, force: true })
    await synthesize({ out: dir, train, test, size: SYNTH_SIZE, noiseRate: 0.2, seed: 1 })
  }
  const { index } = await loadDataset({ path: dir, format: 'rafdb', skipBad: false })
  return { index, source: `synthetic (${train} train + ${test} test, ${SYNTH_SIZE}x${SYNTH_SIZE} JPEG, 20% label noise): ${dir}` }
}
