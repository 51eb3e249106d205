/**
 * A short real train() run at small size: each epoch's wall time (between
 * consecutive onEpoch callbacks, so checkpoints and metrics are included)
 * split into waiting for views, native work and TypeScript orchestration;
 * and, over a longer run, whether memory stays flat from epoch to epoch.
 */
import { rm } from 'node:fs/promises'
import path from 'node:path'

import type { DatasetIndex } from '../../ts/data/types.ts'
import type { Binding } from '../../ts/native/binding.ts'
import { setBinding } from '../../ts/native/index.ts'
import { train } from '../../ts/train/train.ts'
import type { EpochSummary } from '../../ts/train/types.ts'
import { note, round } from './measure.ts'
import { clockedBinding, newClock, totalNativeMs, type NativeClock } from './native-clock.ts'

export interface EpochSplit {
  epoch: number
  phase: string
  wallMs: number
  /** Steps waiting for their views. */
  dataMs: number | null
  /** Steps' tensor work. */
  computeMs: number | null
  /** The rest of the steps' addon calls: argument copies, the libuv hop. */
  stepOverheadMs: number | null
  /** Prediction passes (co-division, evaluation). */
  predictMs: number
  /** Writing checkpoints. */
  checkpointMs: number
  /** releaseMemory at the end of the epoch (glibc's malloc_trim). */
  releaseMs: number
  /** Everything outside the addon: orchestration, partition and metrics files, callbacks. */
  typescriptMs: number
  typescriptShare: number
}

export interface EpochRun {
  settings: { train: number; test: number; imageSize: number; batchSize: number; epochs: number; warmup: number; device: string }
  epochs: EpochSplit[]
  /** Decodes per image over the whole run (1 = every image decoded exactly once); null from an older addon. */
  decodesPerImage: number | null
  /**
   * Resident memory after each epoch, MiB, measured after a full JavaScript
   * garbage collection when node runs with --expose-gc (the memory run does),
   * so that it shows what is held, not when V8 last collected.
   */
  rssMiB: number[]
  /** JavaScript heap in use after each epoch, MiB. */
  heapMiB: number[]
  gcBeforeReading: boolean
  maxRssMiB: number
}

export interface EpochOptions {
  root: string
  index: DatasetIndex
  train: number
  test: number
  imageSize: number
  batchSize: number
  epochs: number
  warmup: number
  device: string
}

function subset(index: DatasetIndex, train: number, test: number): DatasetIndex {
  const { trueTrainLabels: _t, ambiguousTrain: _a, ...rest } = index
  return {
    ...rest,
    train: { paths: index.train.paths.slice(0, train), labels: index.train.labels.slice(0, train) },
    test: { paths: index.test.paths.slice(0, test), labels: index.test.labels.slice(0, test) },
  }
}

function split(summary: EpochSummary, wallMs: number, before: NativeClock, after: NativeClock): EpochSplit {
  const d = (m: string) => (after.byMethod[m] ?? 0) - (before.byMethod[m] ?? 0)
  const native = totalNativeMs(after) - totalNativeMs(before)
  const stepMs = d('warmupStep') + d('coDivisionStep')
  const reported = after.stepReported
  const dataMs = after.stepDataMs - before.stepDataMs
  const computeMs = after.stepComputeMs - before.stepComputeMs
  const typescriptMs = wallMs - native
  return {
    epoch: summary.epoch,
    phase: summary.phase,
    wallMs: round(wallMs),
    dataMs: reported ? round(dataMs) : null,
    computeMs: reported ? round(computeMs) : null,
    stepOverheadMs: reported ? round(stepMs - dataMs - computeMs) : null,
    predictMs: round(d('predict')),
    checkpointMs: round(d('save')),
    releaseMs: round(d('releaseMemory')),
    typescriptMs: round(typescriptMs),
    typescriptShare: round(typescriptMs / wallMs, 4),
  }
}

const snapshot = (c: NativeClock): NativeClock => ({ ...c, byMethod: { ...c.byMethod }, datasets: [] })

export async function benchEpochs(binding: Binding, o: EpochOptions): Promise<EpochRun> {
  const clock = newClock()
  setBinding(clockedBinding(binding, clock))
  const out = path.join(o.root, '.cache', 'bench-runs', `run-${process.pid}-${o.epochs}`)
  await rm(out, { recursive: true, force: true })
  const epochs: EpochSplit[] = []
  const rssMiB: number[] = []
  const heapMiB: number[] = []
  const gc = (globalThis as { gc?: () => void }).gc
  let last = { at: performance.now(), clock: snapshot(clock) }
  note(`epochs: train() on ${o.train} images at ${o.imageSize} px, batch ${o.batchSize}, ${o.epochs} epochs (${o.warmup} warm-up)`)
  try {
    await train(
      {
        method: 'man',
        out,
        train: { epochs: o.epochs, warmup: o.warmup, batchSize: o.batchSize, imageSize: o.imageSize, seed: 0 },
        runtime: { device: o.device, evalBatchSize: 256 },
      },
      {
        dataset: subset(o.index, o.train, o.test),
        onEpoch: (summary) => {
          const now = performance.now()
          const current = snapshot(clock)
          // The first epoch's span also holds the set-up (scan, first checkpoint): not an epoch's cost.
          if (summary.epoch > 1) epochs.push(split(summary, now - last.at, last.clock, current))
          gc?.()
          const mem = process.memoryUsage()
          rssMiB.push(round(mem.rss / 2 ** 20))
          heapMiB.push(round(mem.heapUsed / 2 ** 20))
          note(`epochs: epoch ${summary.epoch}/${o.epochs} done, rss ${rssMiB.at(-1)} MiB`)
          last = { at: performance.now(), clock: snapshot(clock) }
        },
      },
    )
  } finally {
    setBinding(undefined)
    await rm(out, { recursive: true, force: true })
  }
  const images = clock.datasets.reduce((a, ds) => a + ds.length, 0)
  const decodes = clock.datasets.reduce<number | null>((a, ds) => (a === null || typeof ds.decodeCount !== 'number' ? null : a + ds.decodeCount), 0)
  return {
    settings: { train: o.train, test: o.test, imageSize: o.imageSize, batchSize: o.batchSize, epochs: o.epochs, warmup: o.warmup, device: o.device },
    epochs,
    decodesPerImage: decodes === null || images === 0 ? null : round(decodes / images, 3),
    rssMiB,
    heapMiB,
    gcBeforeReading: gc !== undefined,
    maxRssMiB: round(process.resourceUsage().maxRSS / 1024),
  }
}
