/** Shared fixtures of the orchestration specs: fake datasets, temp run dirs. */
import { promises as fs } from 'node:fs'

import type { DatasetIndex } from '../../ts/data/types.ts'
import type { EpochSummary } from '../../ts/train/types.ts'

export const CLASS_NAMES = ['surprise', 'fear', 'disgust', 'happiness', 'sadness', 'anger', 'neutral']

/** The fake binding reads an image's true class from its name. */
export function classOfName(name: string): number | undefined {
  const m = /class-(\d+)/.exec(name)
  return m ? Number(m[1]) : undefined
}

export interface IndexOptions {
  train: number
  test: number
  classes?: number
  /** Training samples whose given label is replaced (by the next class); trueTrainLabels then holds the truth. */
  flip?: number[]
}

/** A DatasetIndex of fake paths `/fake/<split>/class-<y>/img-<i>.png` (the fake binding never opens them). */
export function makeIndex(options: IndexOptions): DatasetIndex {
  const k = options.classes ?? CLASS_NAMES.length
  const split = (name: string, n: number) => {
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 5 + 3) % k)
    const paths = Array.from(labels, (y, i) => `/fake/${name}/class-${y}/img-${String(i).padStart(4, '0')}.png`)
    return { paths, labels }
  }
  const index: DatasetIndex = {
    root: '/fake',
    format: 'synthetic',
    classNames: CLASS_NAMES.slice(0, k),
    train: split('train', options.train),
    test: split('test', options.test),
  }
  if (options.flip !== undefined) {
    index.trueTrainLabels = index.train.labels.slice()
    for (const i of options.flip) index.train.labels[i] = (index.train.labels[i]! + 1) % k
  }
  return index
}

export { tempDir } from './temp-dir.ts'

export async function readJsonLines(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await fs.readFile(file, 'utf8')
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** History without wall-clock timings, which legitimately differ between runs. */
export function withoutTimings(history: EpochSummary[]): Array<Omit<EpochSummary, 'timings'>> {
  return history.map(({ timings: _t, ...rest }) => rest)
}

/** A tiny configuration for fast specs. */
/** The reference's loop (the `paper` preset's choices) for specs of its exact behaviour. */
export const REFERENCE_LOOP = {
  train: { warmupEnd: 'fixed' },
  man: { coDivisionView: 'weak', consistencyGradient: 'both', subsetPasses: 'separate', lambdaRamp: 'run', noisyBound: 'none', relabel: 'none' },
}

export function tinyConfig(out: string, overrides: Record<string, unknown> = {}) {
  const base = {
    out,
    train: { epochs: 4, warmup: 1, batchSize: 4, imageSize: 16, seed: 7 },
    runtime: { device: 'cpu', evalBatchSize: 8 },
  }
  return deepMergeSimple(base, overrides)
}

function deepMergeSimple(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a }
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k]
    out[k] =
      typeof v === 'object' && v !== null && !Array.isArray(v) && typeof cur === 'object' && cur !== null
        ? deepMergeSimple(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v
  }
  return out
}
