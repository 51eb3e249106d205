/**
 * The running sums of an epoch (kept in checkpoints so that a resumed epoch
 * reports what an uninterrupted one would) and the epoch's summary made from
 * them.
 */
import type { NoiseDetection } from '../data/noise.ts'
import type { BindingStepResult } from '../native/binding.ts'
import type { EpochProgress } from './checkpoint.ts'
import type { SplitEvaluation } from './evaluation.ts'
import type { PartitionCounts } from './run-dir.ts'
import type { BatchInfo, EpochPhase, EpochSummary } from './types.ts'

export function emptyProgress(): EpochProgress {
  return {
    samples: 0,
    lossSums: { total: 0, clean: 0, ambiguous: 0, noisy: 0 },
    counts: { clean: 0, ambiguous: 0, noisy: 0 },
    correct1: 0,
    correct2: 0,
    coDivisionMs: 0,
    trainMs: 0,
    dataMs: 0,
    computeMs: 0,
    wallMs: 0,
  }
}

/** Adds one step of `size` samples that took `trainMs` as awaited from TypeScript. */
export function addStep(progress: EpochProgress, step: BindingStepResult, size: number, trainMs: number): void {
  progress.trainMs += trainMs
  progress.dataMs += step.dataMs
  progress.computeMs += step.computeMs
  progress.samples += size
  progress.lossSums.total += step.loss * size
  progress.lossSums.clean += step.lossClean * size
  progress.lossSums.ambiguous += step.lossAmbiguous * size
  progress.lossSums.noisy += step.lossNoisy * size
  progress.counts.clean += step.clean
  progress.counts.ambiguous += step.ambiguous
  progress.counts.noisy += step.noisy
  progress.correct1 += step.correct1
  progress.correct2 += step.correct2
}

/** What an epoch's settings are: the same for each of its batches. */
export interface EpochSettings {
  epoch: number
  epochs: number
  phase: EpochPhase
  lr: number
  /** λe; null outside co-division epochs. */
  lambda: number | null
  /** Agreement of the networks with the given labels before the epoch (EpochSummary.agreement). */
  agreement: number | null
}

export function batchInfo(settings: EpochSettings, batch: number, batches: number, size: number, step: BindingStepResult): BatchInfo {
  return {
    epoch: settings.epoch,
    batch,
    batches,
    size,
    phase: settings.phase,
    lr: settings.lr,
    lambda: settings.lambda,
    loss: { total: step.loss, clean: step.lossClean, ambiguous: step.lossAmbiguous, noisy: step.lossNoisy },
    counts: { clean: step.clean, ambiguous: step.ambiguous, noisy: step.noisy },
  }
}

export interface EpochOutcome {
  settings: EpochSettings
  progress: EpochProgress
  partition: PartitionCounts | null
  noiseDetection: NoiseDetection | null
  test: SplitEvaluation
  validation: SplitEvaluation | null
  evalMs: number
  /** The epoch's wall time, across interruptions. */
  totalMs: number
  isBest: boolean
}

export function summariseEpoch(o: EpochOutcome): EpochSummary {
  const { settings, progress } = o
  const n = Math.max(1, progress.samples)
  return {
    epoch: settings.epoch,
    epochs: settings.epochs,
    phase: settings.phase,
    lr: settings.lr,
    lambda: settings.lambda,
    loss: {
      total: progress.lossSums.total / n,
      clean: progress.lossSums.clean / n,
      ambiguous: progress.lossSums.ambiguous / n,
      noisy: progress.lossSums.noisy / n,
    },
    samples: progress.samples,
    trainAccuracy1: progress.correct1 / n,
    trainAccuracy2: progress.correct2 / n,
    agreement: settings.agreement,
    partition: o.partition,
    noiseDetection: o.noiseDetection,
    test: o.test,
    validation: o.validation,
    isBest: o.isBest,
    timings: {
      coDivisionMs: progress.coDivisionMs,
      trainMs: progress.trainMs,
      dataMs: progress.dataMs,
      computeMs: progress.computeMs,
      evalMs: o.evalMs,
      totalMs: o.totalMs,
    },
  }
}
