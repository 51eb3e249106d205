/**
 * From the configuration to the addon's datasets: the dataset index, then
 * every image decoded once up front, so a broken file fails the run at the
 * start (or is dropped with skipBad) instead of in the middle of an epoch.
 */
import type { ManConfig } from '../config/index.ts'
import { loadDataset } from '../data/index.ts'
import type { DatasetIndex } from '../data/types.ts'
import { callNative, callNativeSync, ConfigError, ManError } from '../errors.ts'
import type { BindingDataset } from '../native/binding.ts'
import { getBinding } from '../native/index.ts'
import { withoutFailures } from './data-plan.ts'
import type { TrainOptions } from './types.ts'

export interface Datasets {
  /** The index the datasets hold: without the images skipBad dropped. */
  index: DatasetIndex
  train: BindingDataset
  test: BindingDataset
  /** One line per image left out, loading and decoding alike. */
  skipped: string[]
}

async function loadIndex(config: ManConfig, options: TrainOptions): Promise<{ index: DatasetIndex; skipped: string[] }> {
  if (options.dataset !== undefined) return { index: options.dataset, skipped: [] }
  if (config.data.path === undefined) {
    throw new ConfigError(['Invalid value for option data.path: required (or pass options.dataset)'])
  }
  return loadDataset({ path: config.data.path, format: config.data.format, skipBad: config.data.skipBad })
}

function createDatasets(index: DatasetIndex, config: ManConfig): Pick<Datasets, 'train' | 'test'> {
  const binding = getBinding()
  const nTrain = index.train.paths.length
  const nTest = index.test.paths.length
  const budget = config.runtime.cacheMB * 1024 * 1024
  const options = (n: number) => ({
    imageSize: config.train.imageSize,
    seed: config.train.seed,
    cacheBytes: Math.floor((budget * n) / Math.max(1, nTrain + nTest)),
    threads: config.runtime.dataThreads,
  })
  return {
    train: callNativeSync(() => binding.Dataset.fromPaths(index.train.paths, options(nTrain))),
    test: callNativeSync(() => binding.Dataset.fromPaths(index.test.paths, options(nTest))),
  }
}

/** The training and test datasets of the run, every image decoded once. */
export async function openDatasets(config: ManConfig, options: TrainOptions): Promise<Datasets> {
  const loaded = await loadIndex(config, options)
  const index = loaded.index
  const opened = createDatasets(index, config)
  const trainFailures = await callNative(() => opened.train.scan())
  const testFailures = await callNative(() => opened.test.scan())
  const failures = [...trainFailures, ...testFailures]
  if (failures.length === 0) return { index, ...opened, skipped: loaded.skipped }
  const lines = failures.map((f) => f.message)
  if (!config.data.skipBad) {
    const shown = lines.slice(0, 10).join('\n')
    const more = lines.length > 10 ? `\n... and ${lines.length - 10} more` : ''
    throw new ManError(
      'ERR_MAN_DECODE',
      `${failures.length} image(s) cannot be read (set data.skipBad to drop them):\n${shown}${more}`,
    )
  }
  const filtered = withoutFailures(
    index,
    new Set(trainFailures.map((f) => f.index)),
    new Set(testFailures.map((f) => f.index)),
  )
  return { index: filtered, ...createDatasets(filtered, config), skipped: [...loaded.skipped, ...lines] }
}
