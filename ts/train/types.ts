/** Public shapes of training: callbacks' arguments, history, result. */
import type { DistributedOptions } from '../dist/replicas.ts'
import type { DatasetIndex } from '../data/types.ts'
import type { NoiseDetection } from '../data/noise.ts'
import type { ManConfig } from '../config/schema.ts'
import type { SplitEvaluation } from './evaluation.ts'
import type { PartitionCounts } from './run-dir.ts'

export type EpochPhase = 'warmup' | 'co-division' | 'ce'

/** Sample-weighted means over the batches of an epoch (or one batch). */
export interface LossSummary {
  /** The loss that was back-propagated. */
  total: number
  /** Warm-up / CE: ½(CE1+CE2); co-division: Lc. */
  clean: number
  /** La before ω (0 outside co-division). */
  ambiguous: number
  /** Ln before γ (0 outside co-division). */
  noisy: number
}

export interface EpochTimings {
  /** Predicting the training set and dividing it. */
  coDivisionMs: number
  /** Training steps, as awaited from TypeScript (addon calls included). */
  trainMs: number
  /** Of trainMs: the steps' wait for their views (built ahead while the previous step ran, when possible). */
  dataMs: number
  /** Of trainMs: the steps' tensor work (forward, backward, Adam). */
  computeMs: number
  /** Evaluating the test (and validation) split. */
  evalMs: number
  /** The epoch's wall time; what the parts above leave is orchestration, checkpoints and callbacks. */
  totalMs: number
}

export interface EpochSummary {
  /** 1-based. */
  epoch: number
  epochs: number
  phase: EpochPhase
  lr: number
  /** λe of this epoch; null outside co-division epochs. */
  lambda: number | null
  loss: LossSummary
  /** Samples trained on this epoch (the last batch is dropped when it holds one sample). */
  samples: number
  /** On the training views against the given labels. */
  trainAccuracy1: number
  trainAccuracy2: number
  /**
   * Mean over the two networks of the fraction of training samples whose given
   * label they predict, measured before the epoch on the co-division view;
   * null when no prediction pass ran before the epoch.
   */
  agreement: number | null
  /** Co-division of this epoch; null outside co-division epochs. */
  partition: PartitionCounts | null
  /** Scoring of the noisy subset against the known flips, when true labels are known. */
  noiseDetection: NoiseDetection | null
  test: SplitEvaluation
  validation: SplitEvaluation | null
  /** This epoch became the best checkpoint. */
  isBest: boolean
  timings: EpochTimings
}

export interface BatchInfo {
  epoch: number
  /** 1-based index of the batch within the epoch. */
  batch: number
  batches: number
  size: number
  phase: EpochPhase
  lr: number
  lambda: number | null
  loss: LossSummary
  /** Subset sizes within the batch (all clean outside co-division epochs). */
  counts: PartitionCounts
}

/** A callback may end training cleanly (checkpoint written) by returning 'stop' or { stop: true }. */
export type CallbackControl = void | undefined | 'stop' | { stop?: boolean }

export interface TrainOptions {
  onEpoch?: (summary: EpochSummary) => CallbackControl | Promise<CallbackControl>
  onBatch?: (info: BatchInfo) => CallbackControl | Promise<CallbackControl>
  /**
   * Things the run did on its own that the user should know: a half-made
   * directory cleared, temp files of interrupted writes removed, a resume
   * from an older checkpoint because `last` was unusable. Also written to
   * metrics.jsonl as 'warning' events.
   */
  onWarning?: (message: string) => void
  /** Stops at the next batch boundary, writes checkpoints/last, rejects with `signal.reason`. */
  signal?: AbortSignal
  /** A run directory to continue, at the exact epoch and batch where it stopped. */
  resume?: string
  /** Use this index instead of loading `config.data`. */
  dataset?: DatasetIndex
  /**
   * Data-parallel training: join the job the environment describes (torchrun,
   * Slurm, `man-fer train --nproc`) and train on this rank's shard of every
   * batch; rank 0 alone writes the run directory. See docs/distributed.md.
   */
  distributed?: boolean | DistributedOptions
}

export interface BestEpoch {
  epoch: number
  /** What chose it: validation accuracy when a validation split exists, else test accuracy (as the reference). */
  selectedBy: 'validation' | 'test'
  /** The ensemble accuracy the choice was made on. */
  score: number
  testAccuracy: number
  validationAccuracy: number | null
}

/** What `model.pretrained` gave both networks. A missing or misshapen backbone tensor fails the run instead. */
export interface PretrainedReport {
  /** The weights file, absolute. */
  path: string
  /** How many tensors of the file were copied into each network (100 for a torchvision ResNet-18 backbone). */
  loaded: number
  /** Tensors of the file not used: a head of another shape, names the model lacks, BatchNorm counters. */
  skipped: string[]
  /** Head variables that kept their initialisation because the file has no head of this class count. */
  headInitialised: string[]
}

export interface TrainResult {
  runDir: string
  config: ManConfig
  /** True when a callback asked to stop before the last epoch. */
  stopped: boolean
  epochsCompleted: number
  history: EpochSummary[]
  best: BestEpoch | null
  /** Ensemble test accuracy of the last completed epoch. */
  lastTestAccuracy: number | null
  /** Mean ensemble test accuracy of the last five completed epochs (fewer if fewer ran). */
  meanLast5TestAccuracy: number | null
  checkpoints: { last: string; best: string | null }
  pretrained: PretrainedReport | null
  /** Data-parallel: this process's rank (rank 0 wrote the run directory); null for one process. */
  distributed: { rank: number; worldSize: number } | null
  /** report.html written when training ended (config report.html), or why it could not be; null when not made. */
  report: { file: string; bytes: number } | { error: string } | null
}
