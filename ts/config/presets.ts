/** Named starting points that `resolveConfig` merges under the user's input. */
import type { ConfigInput } from './schema.ts'

export const presets = {
  /** The published setting (METHOD.md); equal to the schema's defaults, spelled out. */
  paper: {
    train: { imageSize: 224, batchSize: 128, epochs: 100, warmup: 10 },
  },
  /** Small enough to finish in minutes on two CPU cores. */
  'cpu-small': {
    train: { imageSize: 48, batchSize: 32, epochs: 12, warmup: 3 },
    runtime: { device: 'cpu', evalBatchSize: 128, cacheMB: 256 },
  },
} as const satisfies Record<string, ConfigInput>

export type PresetName = keyof typeof presets
