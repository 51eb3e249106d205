/**
 * One epoch's training steps (timm's train_one_epoch): the epoch's
 * settings, its co-division (or the one saved when resuming inside the
 * epoch), then the batches in the epoch's seeded order, each announcing the
 * next one to the addon so that its views are built while the step trains.
 */
import type { ManConfig } from '../config/index.ts'
import { callNative, callNativeSync, ManError } from '../errors.ts'
import type { BindingDataset, BindingTrainer } from '../native/binding.ts'
import type { EpochProgress } from './checkpoint.ts'
import type { CheckpointSaver, Position } from './checkpoint-saver.ts'
import { coDivide } from './co-division.ts'
import type { DataPlan } from './data-plan.ts'
import { addStep, batchInfo, emptyProgress, type EpochSettings } from './epoch-progress.ts'
import { epochOrder, orderedSamples, type OrderedSamples } from './epoch-order.ts'
import { readPartition, writePartition, type PartitionCounts } from './run-dir.ts'
import { isWarmup, lambdaAt, lrAt } from './schedule.ts'
import type { CallbackControl, TrainOptions } from './types.ts'

export function isStop(control: CallbackControl): boolean {
  return control === 'stop' || (typeof control === 'object' && control !== null && control.stop === true)
}

export function epochSettings(config: ManConfig, epoch: number): EpochSettings {
  const epochs = config.train.epochs
  const phase = config.method === 'ce' ? 'ce' : isWarmup(epoch, config.train.warmup) ? 'warmup' : 'co-division'
  const lambda =
    phase === 'co-division'
      ? lambdaAt(epoch, epochs, {
          lambdaMax: config.man.lambdaMax,
          beta: config.man.beta,
          rampFraction: config.man.rampFraction,
        })
      : null
  return { epoch, epochs, phase, lr: lrAt(epoch, { lr: config.train.lr, decay: config.train.lrDecay }), lambda }
}

/** What every epoch of a run trains with. */
export interface EpochContext {
  config: ManConfig
  trainer: BindingTrainer
  /** The training images (validation samples included). */
  dataset: BindingDataset
  plan: DataPlan
  saver: CheckpointSaver
  onBatch: TrainOptions['onBatch']
  /** Partition code per training member, rewritten by each co-division. */
  codes: Uint8Array
}

export interface TrainedEpoch {
  progress: EpochProgress
  partition: PartitionCounts | null
}

/**
 * Divides the training set with both networks' predictions and writes the
 * partition, or (resuming inside the epoch) reads back the one the epoch was
 * trained with.
 */
async function epochPartition(ctx: EpochContext, epoch: number, startBatch: number, progress: EpochProgress): Promise<PartitionCounts> {
  const { plan, config, saver } = ctx
  const { replicas } = saver
  const nTrain = plan.trainMembers.length
  if (startBatch === 0) {
    const t0 = performance.now()
    // Data-parallel: each rank predicts its shard; every rank divides the whole.
    const prediction = await replicas.predict(
      ctx.trainer,
      ctx.dataset,
      plan.trainMembers,
      config.man.coDivisionView,
      epoch,
      config.runtime.evalBatchSize,
      false,
    )
    const division = coDivide(prediction.pred1, prediction.pred2, plan.trainLabels, ctx.codes)
    const partition = { clean: division.clean, ambiguous: division.ambiguous, noisy: division.noisy }
    if (replicas.isMain) await writePartition(saver.runDir, epoch, ctx.codes, partition)
    progress.coDivisionMs += performance.now() - t0
    return partition
  }
  // Resuming inside the epoch: the partition it was trained with, read by rank 0.
  const saved = await replicas.fromMain(async () => {
    const read = await readPartition(saver.runDir, epoch)
    if (read.codes.length !== nTrain) {
      throw new ManError('ERR_MAN_RUN_DIR', `${saver.runDir}: partition of epoch ${epoch} has ${read.codes.length} samples, expected ${nTrain}`)
    }
    return { codes: Array.from(read.codes), counts: read.counts }
  })
  ctx.codes.set(saved.codes)
  return saved.counts
}

/**
 * Stops a run whose loss is no longer a number: the weights just stepped are
 * unusable, so nothing is saved and checkpoints/last keeps the last good state.
 */
async function diverged(ctx: EpochContext, settings: EpochSettings, batch: number, loss: number): Promise<never> {
  const { saver } = ctx
  await saver.event({ event: 'diverged', epoch: settings.epoch, batch, loss: String(loss), lr: settings.lr })
  const kept = saver.savedAt === null ? '' : `; ${saver.path('last')} keeps the last good state (${saver.savedAt})`
  throw new ManError(
    'ERR_MAN_DIVERGED',
    `training diverged: the loss is ${loss} at epoch ${settings.epoch}, batch ${batch} (lr ${Number(settings.lr.toPrecision(4))})${kept}; ` +
      'lower train.lr, or check the data and the pretrained weights',
  )
}

function batchOf(ordered: OrderedSamples, batchSize: number, b: number) {
  const start = b * batchSize
  const end = Math.min(ordered.indices.length, start + batchSize)
  return {
    indices: ordered.indices.subarray(start, end),
    labels: ordered.labels.subarray(start, end),
    codes: ordered.codes?.subarray(start, end) ?? null,
  }
}

/**
 * Trains the epoch from `start` (its first batch, or where a resumed run
 * stopped). Returns null when `onBatch` asked to stop (checkpoints/last then
 * holds the position after that batch); rejects with the signal's reason on
 * abort, once checkpoints/last holds the position reached.
 */
export async function trainOneEpoch(
  ctx: EpochContext,
  settings: EpochSettings,
  start: Position,
  segmentStart: number,
): Promise<TrainedEpoch | null> {
  const { config, trainer, plan, saver } = ctx
  const { epoch, phase } = settings
  const startBatch = start.nextBatch
  // A checkpoint written before the data/compute split lacks those sums.
  const progress = start.progress !== null ? { ...emptyProgress(), ...start.progress } : emptyProgress()
  const here = (nextBatch: number): Position => ({
    epoch,
    nextBatch,
    progress: { ...progress, wallMs: progress.wallMs + performance.now() - segmentStart },
  })
  await saver.stopIfAborted(here(startBatch))

  callNativeSync(() => trainer.setLr(settings.lr))
  const partition = phase === 'co-division' ? await epochPartition(ctx, epoch, startBatch, progress) : null

  const nTrain = plan.trainMembers.length
  const order = epochOrder(nTrain, config.train.batchSize, config.train.seed, epoch, config.train.sampler === 'balanced' ? plan.trainLabels : undefined)
  // The epoch's samples in visiting order, gathered once: each batch is then
  // a view (no per-sample work between steps), and the next batch can be
  // announced to the addon, which builds its views while the step trains.
  const ordered = orderedSamples(order.order, plan.trainMembers, plan.trainLabels, phase === 'co-division' ? ctx.codes : null)
  const { replicas } = saver
  // λ is set exactly in co-division epochs, whose batches carry partition codes.
  const weights = settings.lambda === null ? null : { lambda: settings.lambda, omega: config.man.omega, gamma: config.man.gamma }
  for (let b = startBatch; b < order.batches; b++) {
    // Data-parallel: this rank's shard of the global batch (the whole batch on one rank).
    const batch = { epoch, ...replicas.shard(batchOf(ordered, order.batchSize, b)) }
    const next = b + 1 < order.batches ? replicas.shard(batchOf(ordered, order.batchSize, b + 1)) : null
    const t0 = performance.now()
    const local = await callNative(() =>
      // A rank whose shard is empty still takes part in the gradient average and the Adam step.
      batch.indices.length === 0
        ? trainer.idleStep()
        : weights !== null
          ? trainer.coDivisionStep(ctx.dataset, batch, weights, next)
          : trainer.warmupStep(ctx.dataset, batch, next),
    )
    // Summed over the ranks: a non-finite loss on any rank stops every rank at this batch.
    const { step, size } = await replicas.reduceStep(local, batch.indices.length)
    if (!Number.isFinite(step.loss)) await diverged(ctx, settings, b + 1, step.loss)
    addStep(progress, step, size, performance.now() - t0)
    const checksums = await replicas.checkReplicas(trainer, `after epoch ${epoch}, batch ${b + 1}`)
    if (checksums !== null) await saver.event({ event: 'replicas', epoch, batch: b + 1, checksums })

    const control = await ctx.onBatch?.(batchInfo(settings, b + 1, order.batches, size, step))
    const [stop] = await replicas.any([isStop(control)])
    if (stop) {
      await saver.save('last', here(b + 1))
      await saver.event({ event: 'stop', epoch, batch: b + 1, by: 'onBatch' })
      return null
    }
    await saver.stopIfAborted(here(b + 1))
  }
  return { progress, partition }
}
