/**
 * What `man-fer train` shows while it runs: with --json a batch and an epoch
 * event per line on stdout; on a TTY two live bars (epochs, batches of the
 * epoch, with rate and ETA) under the epoch lines; otherwise one plain line
 * per epoch on stderr.
 */
import type { BatchInfo, EpochSummary } from '../train/types.ts'
import { duration, pct, sci } from './format.ts'
import { paint, type Output } from './output.ts'

const REDRAW_MS = 100

function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction))
  const full = Math.round(f * width)
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`
}

/** The one line a finished epoch gets. */
export function epochLine(s: EpochSummary, color = false): string {
  const p = paint(color)
  const width = String(s.epochs).length
  const parts = [
    `epoch ${String(s.epoch).padStart(width)}/${s.epochs}`,
    s.phase.padEnd(11),
    `acc f1 ${pct(s.test.accuracy1)} f2 ${pct(s.test.accuracy2)} ens ${p.bold(pct(s.test.accuracy))}`,
    `mca ${pct(s.test.meanClassAccuracy)}`,
  ]
  if (s.validation !== null) parts.push(`val ${pct(s.validation.accuracy)}`)
  if (s.partition !== null) {
    parts.push(`clean ${s.partition.clean} ambiguous ${s.partition.ambiguous} noisy ${s.partition.noisy}`)
  }
  if (s.lambda !== null) parts.push(`λ ${s.lambda.toFixed(3)}`)
  parts.push(`lr ${sci(s.lr)}`)
  if (s.noiseDetection !== null) {
    parts.push(`noise P ${pct(s.noiseDetection.precision)} R ${pct(s.noiseDetection.recall)}`)
  }
  parts.push(`loss ${s.loss.total.toFixed(3)}`, duration(s.timings.totalMs))
  if (s.isBest) parts.push(p.green('*best'))
  return parts.join('  ')
}

export class TrainReporter {
  private epochStart = performance.now()
  private epochSamples = 0
  private epochBatchesDone = 0
  private currentEpoch = 0
  private lastDraw = 0
  /** Wall time of finished epochs in this process, for the total ETA. */
  private epochMs: number[] = []

  constructor(private readonly out: Output) {}

  onBatch = (info: BatchInfo): void => {
    if (this.out.json) {
      this.out.event({ type: 'batch', ...info })
      return
    }
    if (!this.out.interactive) return
    const now = performance.now()
    if (info.epoch !== this.currentEpoch) {
      // Timing starts at the end of the epoch's first batch: before it lies co-division, not batches.
      this.currentEpoch = info.epoch
      this.epochStart = now
      this.epochSamples = 0
      this.epochBatchesDone = 0
    } else {
      this.epochSamples += info.size
      this.epochBatchesDone++
    }
    if (now - this.lastDraw < REDRAW_MS && info.batch !== info.batches) return
    this.lastDraw = now
    const elapsed = now - this.epochStart
    const timed = this.epochBatchesDone > 0 && elapsed > 0
    const perBatch = timed ? elapsed / this.epochBatchesDone : Number.NaN
    const epochEta = perBatch * (info.batches - info.batch)
    const rate = timed ? `${((1000 * this.epochSamples) / elapsed).toFixed(1)} img/s` : '- img/s'
    // Co-division and evaluation are not in the batch time: the epochs seen so far are the better guess.
    const meanEpoch = this.epochMs.length > 0 ? this.epochMs.reduce((a, b) => a + b, 0) / this.epochMs.length : perBatch * info.batches
    const epochsAfter = this.totalEpochs - info.epoch
    const totalEta = epochEta + epochsAfter * meanEpoch
    const p = paint(this.out.color)
    const done = (info.epoch - 1 + info.batch / info.batches) / Math.max(1, this.totalEpochs)
    this.out.status([
      `${p.bold('epochs')}  ${bar(done, 30)} ${info.epoch}/${this.totalEpochs}  ${info.phase}  ETA ${duration(totalEta)}`,
      `${p.bold('batches')} ${bar(info.batch / info.batches, 30)} ${info.batch}/${info.batches}  ${rate}  ETA ${duration(epochEta)}  loss ${info.loss.total.toFixed(3)}`,
    ])
  }

  /** Set from the first epoch summary (or by the caller when known earlier). */
  totalEpochs = 0

  onEpoch = (summary: EpochSummary): void => {
    this.totalEpochs = summary.epochs
    this.epochMs.push(summary.timings.totalMs)
    if (this.out.json) {
      this.out.event({ type: 'epoch', ...summary })
      return
    }
    this.out.log(epochLine(summary, this.out.color))
  }

  finish(): void {
    this.out.clearStatus()
  }
}
