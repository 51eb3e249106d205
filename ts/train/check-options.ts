/** train()'s options checked at the boundary: a wrong type is a ManError naming the option, not a TypeError later. */
import { argumentError, describe } from '../util/arguments.ts'
import type { TrainOptions } from './types.ts'

export function checkTrainOptions(options: unknown): asserts options is TrainOptions {
  if (typeof options !== 'object' || options === null) throw argumentError('train', `options must be an object, got ${describe(options)}`)
  const o = options as Record<string, unknown>
  for (const key of ['onEpoch', 'onBatch', 'onWarning'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function') throw argumentError('train', `options.${key} must be a function, got ${describe(o[key])}`)
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw argumentError('train', `options.signal must be an AbortSignal, got ${describe(o.signal)}`)
  }
  if (o.resume !== undefined && (typeof o.resume !== 'string' || o.resume === '')) {
    throw argumentError('train', `options.resume must be a run directory path, got ${describe(o.resume)}`)
  }
  const dataset = o.dataset as Record<string, unknown> | undefined
  if (dataset !== undefined) {
    const split = (name: string) => dataset?.[name] as { paths?: unknown; labels?: unknown } | undefined
    const ok =
      typeof dataset === 'object' && dataset !== null && Array.isArray(dataset.classNames) &&
      ['train', 'test'].every((n) => Array.isArray(split(n)?.paths) && split(n)?.labels instanceof Int32Array)
    if (!ok) {
      throw argumentError('train', 'options.dataset must be a DatasetIndex ({ root, classNames, train: { paths, labels: Int32Array }, test })')
    }
  }
}
