/**
 * What a checkpoint's metadata holds: enough to resume exactly (position,
 * partial epoch sums, history, best so far) and to load the model later
 * (class names, image size) without the run directory.
 */
import { createHash } from 'node:crypto'

import type { ManConfig } from '../config/schema.ts'
import { ManError } from '../errors.ts'
import { readSafetensorsMetadata } from '../util/safetensors.ts'
import type { BestEpoch, EpochSummary, PretrainedReport } from './types.ts'

export const CHECKPOINT_KIND = 'man-fer-checkpoint'

/** Running sums of the epoch in progress, so a resumed epoch reports what an uninterrupted one would. */
export interface EpochProgress {
  samples: number
  lossSums: { total: number; clean: number; ambiguous: number; noisy: number }
  counts: { clean: number; ambiguous: number; noisy: number }
  correct1: number
  correct2: number
  coDivisionMs: number
  trainMs: number
  /** Parts of trainMs reported by the addon: waiting for views, and tensor work. */
  dataMs: number
  computeMs: number
  /** Wall time spent on the epoch so far, across interruptions. */
  wallMs: number
  /** The agreement measured before the epoch (EpochSummary.agreement), so that a resumed epoch keeps it. */
  agreement?: number | null
}

export interface CheckpointMeta {
  kind: typeof CHECKPOINT_KIND
  version: 1
  configHash: string
  method: ManConfig['method']
  classNames: string[]
  imageSize: number
  trainSize: number
  /** Where training continues: this epoch (1-based), at this batch (0-based). */
  epoch: number
  nextBatch: number
  progress: EpochProgress | null
  history: EpochSummary[]
  best: BestEpoch | null
  pretrained: PretrainedReport | null
  /** Processes that trained the run (data-parallel ranks); absent in checkpoints of one process. */
  worldSize?: number
}

/** Settings that may change between a run and its resumption without changing its results. */
const NOT_HASHED = new Set(['runtime', 'report', 'out'])

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    )
  }
  return value
}

export function configHash(config: ManConfig): string {
  const kept = Object.fromEntries(Object.entries(config).filter(([k]) => !NOT_HASHED.has(k)))
  return createHash('sha256').update(JSON.stringify(canonical(kept))).digest('hex')
}

/** Leaf paths (a.b.c) whose values differ between two configs, for a readable resume error. */
export function configDifferences(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v)
  if (!isObj(a) || !isObj(b)) return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(root)']
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)])
  const out: string[] = []
  for (const k of [...keys].sort()) {
    if (prefix === '' && NOT_HASHED.has(k)) continue
    out.push(...configDifferences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k))
  }
  return out
}

export function parseCheckpointMeta(json: string, file: string): CheckpointMeta {
  let meta: unknown
  try {
    meta = JSON.parse(json)
  } catch (err) {
    throw new ManError('ERR_MAN_RUN_DIR', `${file}: checkpoint metadata is not JSON`, { cause: err })
  }
  if ((meta as { kind?: unknown })?.kind !== CHECKPOINT_KIND) {
    throw new ManError('ERR_MAN_RUN_DIR', `${file}: not a man-fer checkpoint (no '${CHECKPOINT_KIND}' metadata)`)
  }
  return meta as CheckpointMeta
}

/**
 * The safetensors metadata key the addon's `Trainer.save` stores the
 * caller's metadata JSON under (KEY_METADATA in
 * crates/man-core/src/train/checkpoint.rs).
 */
export const CHECKPOINT_METADATA_KEY = 'metadata'

/** The man-fer metadata of a checkpoint file, read without the addon. */
export async function readCheckpointMeta(file: string): Promise<CheckpointMeta> {
  const value = (await readSafetensorsMetadata(file))[CHECKPOINT_METADATA_KEY]
  if (value === undefined) {
    throw new ManError('ERR_MAN_RUN_DIR', `${file}: not a man-fer checkpoint (no '${CHECKPOINT_METADATA_KEY}' metadata)`)
  }
  return parseCheckpointMeta(value, file)
}
