/** A dataset split as the addon's Dataset: from files (cropped where the split says) or from the images it carries. */
import type { DatasetSplit } from '../data/types.ts'
import { callNativeSync } from '../errors.ts'
import type { Binding, BindingDataset, BindingDatasetOptions } from '../native/binding.ts'

export function openSplit(binding: Binding, split: DatasetSplit, options: BindingDatasetOptions): BindingDataset {
  if (split.images !== undefined) {
    const buffers = split.images.map((b) => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)))
    return callNativeSync(() => binding.Dataset.fromBuffers(buffers, split.paths, options))
  }
  const crops = split.crops === undefined ? {} : { crops: Array.from(split.crops) }
  return callNativeSync(() => binding.Dataset.fromPaths(split.paths, { ...options, ...crops }))
}
