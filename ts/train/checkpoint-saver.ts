/**
 * Owns checkpoints/last and checkpoints/best: what they record (history, best
 * epoch, pretrained report, position), which position `last` holds, and the
 * clean stop when the caller's AbortSignal fires (timm's CheckpointSaver).
 */
import { copyFileAtomic } from '../data/atomic-write.ts'
import { callNative, ManError } from '../errors.ts'
import type { BindingTrainer } from '../native/binding.ts'
import { CHECKPOINT_KIND, parseCheckpointMeta, type CheckpointMeta, type EpochProgress } from './checkpoint.ts'
import { appendEvent, checkpointPath, type CheckpointName } from './run-dir.ts'
import type { BestEpoch, EpochSummary, PretrainedReport } from './types.ts'

/** Where training continues: this epoch (1-based), at this batch (0-based), with the epoch's sums so far. */
export interface Position {
  epoch: number
  nextBatch: number
  progress: EpochProgress | null
}

/** What every checkpoint of a run says about the run itself. */
export type CheckpointIdentity = Pick<CheckpointMeta, 'configHash' | 'method' | 'classNames' | 'imageSize' | 'trainSize'>

export class CheckpointSaver {
  history: EpochSummary[] = []
  best: BestEpoch | null = null
  pretrained: PretrainedReport | null = null
  /** The position checkpoints/last currently holds, to avoid writing it twice. */
  private saved: { epoch: number; nextBatch: number } | null = null

  constructor(
    private readonly trainer: BindingTrainer,
    readonly runDir: string,
    private readonly identity: CheckpointIdentity,
    private readonly signal: AbortSignal | undefined,
  ) {}

  path(which: CheckpointName): string {
    return checkpointPath(this.runDir, which)
  }

  private meta(p: Position): CheckpointMeta {
    return {
      kind: CHECKPOINT_KIND,
      version: 1,
      ...this.identity,
      epoch: p.epoch,
      nextBatch: p.nextBatch,
      progress: p.progress,
      history: this.history,
      best: this.best,
      pretrained: this.pretrained,
    }
  }

  /**
   * Writes `last`, or `best` and then a copy of it as `last`: two files that
   * share no storage, so damage to one leaves the other. Best is written
   * first, so a crash between the two leaves `last` at the previous
   * position, from which the run redoes the same steps.
   */
  async save(which: CheckpointName, p: Position): Promise<void> {
    try {
      await callNative(() => this.trainer.save(this.path(which), JSON.stringify(this.meta(p))))
    } catch (err) {
      // The addon refuses to write non-finite weights over a good checkpoint.
      if (err instanceof ManError && err.code === 'ERR_MAN_DIVERGED') {
        throw new ManError('ERR_MAN_DIVERGED', `training diverged before epoch ${p.epoch}, batch ${p.nextBatch + 1}: ${err.message}`, {
          cause: err,
        })
      }
      throw err
    }
    if (which === 'best') await copyFileAtomic(this.path('best'), this.path('last'))
    this.saved = { epoch: p.epoch, nextBatch: p.nextBatch }
  }

  /** Makes `last` a whole copy of `from` again (after a resume from an older checkpoint). */
  async repairLast(from: string): Promise<void> {
    await copyFileAtomic(from, this.path('last'))
  }

  /** Loads a checkpoint (`last` by default) into the trainer and this saver; returns where training continues. */
  async restore(file: string = this.path('last')): Promise<Position> {
    const restored = parseCheckpointMeta(await callNative(() => this.trainer.load(file)), file)
    if (restored.trainSize !== this.identity.trainSize) {
      throw new ManError(
        'ERR_MAN_RUN_DIR',
        `cannot resume ${this.runDir}: it trained on ${restored.trainSize} samples, the dataset now gives ${this.identity.trainSize}`,
      )
    }
    this.history = restored.history
    this.best = restored.best
    this.pretrained = restored.pretrained
    this.saved = { epoch: restored.epoch, nextBatch: restored.nextBatch }
    return { epoch: restored.epoch, nextBatch: restored.nextBatch, progress: restored.progress }
  }

  /** Whether an epoch scoring `score` (validation accuracy, else test accuracy) beats the best so far. */
  isBest(score: number): boolean {
    return this.best === null || score > this.best.score
  }

  /** Records a finished epoch (and the new best, if it is one) and writes its checkpoint. */
  async endEpoch(summary: EpochSummary, best: BestEpoch | null, next: Position): Promise<void> {
    this.history = [...this.history, summary]
    if (best !== null) this.best = best
    await this.save(best !== null ? 'best' : 'last', next)
  }

  /** Where checkpoints/last stands, in words ("epoch 2, batch 1"), or null before the first save. */
  get savedAt(): string | null {
    return this.saved === null ? null : `epoch ${this.saved.epoch}, batch ${this.saved.nextBatch + 1}`
  }

  get aborted(): boolean {
    return this.signal?.aborted === true
  }

  /** When the signal has fired: `last` holds `p`, the abort is logged, and this rejects with the signal's reason. */
  async stopIfAborted(p: Position): Promise<void> {
    if (!this.aborted) return
    if (this.saved?.epoch !== p.epoch || this.saved.nextBatch !== p.nextBatch) await this.save('last', p)
    await appendEvent(this.runDir, { event: 'abort', epoch: p.epoch, batch: p.nextBatch, reason: String(this.signal?.reason) })
    throw this.signal?.reason
  }
}
