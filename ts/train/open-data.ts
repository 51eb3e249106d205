/**
 * From the configuration to the addon's datasets: the dataset index, then
 * every image decoded once up front, so a broken file fails the run at the
 * start (or is dropped with skipBad) instead of in the middle of an epoch.
 */
import { DATA_LIMITS, type ManConfig } from '../config/index.ts'
import { loadDataset } from '../data/index.ts'
import { applyNoiseFile } from '../data/noise-labels.ts'
import type { DatasetIndex } from '../data/types.ts'
import { callNative, ConfigError, ManError } from '../errors.ts'
import type { BindingDataset } from '../native/binding.ts'
import { getBinding } from '../native/index.ts'
import { checkClasses, checkIndex, withoutFailures } from './data-plan.ts'
import { openSplit } from './open-split.ts'
import type { TrainOptions } from './types.ts'

export interface Datasets {
  /** The index the datasets hold: without the images skipBad dropped. */
  index: DatasetIndex
  train: BindingDataset
  test: BindingDataset
  /** One line per image left out, loading and decoding alike. */
  skipped: string[]
  /** What the dataset format's own rules left out, one line each. */
  notes: string[]
}

interface Loaded {
  index: DatasetIndex
  skipped: string[]
  notes: string[]
}

async function loadIndex(config: ManConfig, options: TrainOptions): Promise<Loaded> {
  if (options.dataset !== undefined) return { index: options.dataset, skipped: [], notes: [] }
  if (config.data.path === undefined) {
    throw new ConfigError(['Invalid value for option data.path: required (or pass options.dataset)'])
  }
  return loadDataset({
    path: config.data.path,
    format: config.data.format,
    skipBad: config.data.skipBad,
    crop: config.data.crop ?? false,
    ...(config.data.classes !== undefined ? { classes: config.data.classes as 7 | 8 } : {}),
    maxClasses: config.data.maxClasses ?? DATA_LIMITS.maxClasses,
  })
}

/** The index with the labels of `noise.file` in place of the given ones, when the config names one. */
async function labelledIndex(config: ManConfig, options: TrainOptions): Promise<Loaded> {
  const loaded = await loadIndex(config, options)
  if (config.noise.file === undefined) return loaded
  const relabelled = await applyNoiseFile(loaded.index, config.noise.file, config.data.skipBad)
  return { ...loaded, index: relabelled.index, skipped: [...loaded.skipped, ...relabelled.skipped] }
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
    maxImageBytes: (config.data.maxImageMB ?? DATA_LIMITS.maxImageMB) * 1024 * 1024,
    maxImagePixels: config.data.maxImagePixels ?? DATA_LIMITS.maxImagePixels,
  })
  return { train: openSplit(binding, index.train, options(nTrain)), test: openSplit(binding, index.test, options(nTest)) }
}

/** The training and test datasets of the run, every image decoded once. */
export async function openDatasets(config: ManConfig, options: TrainOptions, warn: (message: string) => void = () => {}): Promise<Datasets> {
  const loaded = await labelledIndex(config, options)
  const index = loaded.index
  // Before the slow decoding scan: a label typo or an empty class is a minute cheaper to hear about.
  checkIndex(index)
  for (const warning of checkClasses(index, config.data)) warn(warning)
  const opened = createDatasets(index, config)
  const trainFailures = await callNative(() => opened.train.scan())
  const testFailures = await callNative(() => opened.test.scan())
  const failures = [...trainFailures, ...testFailures]
  if (failures.length === 0) return { index, ...opened, skipped: loaded.skipped, notes: loaded.notes }
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
  return { index: filtered, ...createDatasets(filtered, config), skipped: [...loaded.skipped, ...lines], notes: loaded.notes }
}
