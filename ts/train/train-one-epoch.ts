/**
 * One epoch's training steps (timm's train_one_epoch): the epoch's
 * settings, its co-division (or the one saved when resuming inside the
 * epoch), then the batches in the epoch's seeded order, each announcing the
 * next one to the addon so that its views are built while the step trains.
 */
import type { ManConfig } from '../config/index.ts'
import { callNative, callNativeSync, ManError } from '../errors.ts'
import type { BindingDataset, BindingPrediction, BindingTrainer } from '../native/binding.ts'
import type { EpochProgress } from './checkpoint.ts'
import type { CheckpointSaver, Position } from './checkpoint-saver.ts'
import { boundNoisy, coDivide, relabelAgreed, stepTargets } from './co-division.ts'
import type { DataPlan } from './data-plan.ts'
import { addStep, batchInfo, emptyProgress, type EpochSettings } from './epoch-progress.ts'
import { epochOrder, orderedSamples, type OrderedSamples } from './epoch-order.ts'
import { exists, partitionPath, readPartition, writePartition, type PartitionCounts } from './run-dir.ts'
import { isWarmup, lambdaAt, lrAt } from './schedule.ts'
import type { CallbackControl, EpochPhase, TrainOptions } from './types.ts'

export function isStop(control: CallbackControl): boolean {
  return control === 'stop' || (typeof control === 'object' && control !== null && control.stop === true)
}

/**
 * λ of a co-division epoch; with `man.lambdaRamp: 'co-division'` the ramp
 * spans the epochs from the first co-division (`firstCoDivision`) on.
 */
function lambdaOf(config: ManConfig, epoch: number, firstCoDivision: number): number {
  const ramp = { lambdaMax: config.man.lambdaMax, beta: config.man.beta, rampFraction: config.man.rampFraction }
  if (config.man.lambdaRamp === 'run') return lambdaAt(epoch, config.train.epochs, ramp)
  const warmedUp = firstCoDivision - 1
  return lambdaAt(epoch - warmedUp, config.train.epochs - warmedUp, ramp)
}

/** Mean over the two networks of the fraction of samples whose given label they predict. */
export function agreementOf(prediction: BindingPrediction, labels: Int32Array): number {
  let hits = 0
  for (let i = 0; i < labels.length; i++) hits += (prediction.pred1[i] === labels[i] ? 1 : 0) + (prediction.pred2[i] === labels[i] ? 1 : 0)
  return labels.length === 0 ? 0 : hits / (2 * labels.length)
}

/** An epoch's settings, and the training-set prediction made to decide its phase (reused by its co-division). */
export interface EpochPlan {
  settings: EpochSettings
  prediction: BindingPrediction | null
}

/**
 * The co-division prediction pass over the training members (ensemble
 * probabilities when the noisy bound needs them). Data-parallel: each rank
 * predicts its shard and every rank gets the whole, so every rank decides
 * and divides alike.
 */
function predictTrain(ctx: EpochContext, epoch: number): Promise<BindingPrediction> {
  const { config, plan } = ctx
  return ctx.saver.replicas.predict(
    ctx.trainer,
    ctx.dataset,
    plan.trainMembers,
    config.man.coDivisionView,
    epoch,
    config.runtime.evalBatchSize,
    config.man.noisyBound !== 'none',
  )
}

/**
 * Warm-up or co-division for the epoch of `start`. With `train.warmupEnd:
 * 'plateau'`, each epoch after `warmupMin` starts with a prediction pass on
 * the training set; warm-up ends once the networks' agreement with the given
 * labels gains less than `warmupPlateau` over the epoch before, or after
 * `train.warmup` epochs. A run resumed inside an epoch keeps that epoch's
 * phase: a co-division epoch has its partition file.
 */
async function decidePhase(ctx: EpochContext, start: Position): Promise<{ phase: EpochPhase; prediction: BindingPrediction | null }> {
  const { config, saver } = ctx
  const { epoch } = start
  if (config.method === 'ce') return { phase: 'ce', prediction: null }
  if (config.train.warmupEnd === 'fixed') {
    return { phase: isWarmup(epoch, config.train.warmup) ? 'warmup' : 'co-division', prediction: null }
  }
  if (saver.history.some((h) => h.phase === 'co-division') || epoch > config.train.warmup) {
    return { phase: 'co-division', prediction: null }
  }
  if (start.nextBatch > 0) {
    // Rank 0's run directory answers for every rank.
    const divided = await saver.replicas.fromMain(() => exists(partitionPath(saver.runDir, epoch)))
    return { phase: divided ? 'co-division' : 'warmup', prediction: null }
  }
  if (epoch <= config.train.warmupMin) return { phase: 'warmup', prediction: null }
  const prediction = await predictTrain(ctx, epoch)
  const before = saver.history.at(-1)?.agreement
  const gain = before === null || before === undefined ? null : agreementOf(prediction, ctx.plan.trainLabels) - before
  return { phase: gain !== null && gain < config.train.warmupPlateau ? 'co-division' : 'warmup', prediction }
}

/** The settings of the epoch that `start` is in (its phase, lr, λ). */
export async function planEpoch(ctx: EpochContext, start: Position): Promise<EpochPlan> {
  const { config, saver } = ctx
  const { epoch } = start
  const { phase, prediction } = await decidePhase(ctx, start)
  const firstCoDivision = saver.history.find((h) => h.phase === 'co-division')?.epoch ?? epoch
  const settings: EpochSettings = {
    epoch,
    epochs: config.train.epochs,
    phase,
    lr: lrAt(epoch, { lr: config.train.lr, decay: config.train.lrDecay }),
    lambda: phase === 'co-division' ? lambdaOf(config, epoch, firstCoDivision) : null,
    agreement:
      prediction !== null
        ? agreementOf(prediction, ctx.plan.trainLabels)
        : start.nextBatch > 0
          ? (start.progress?.agreement ?? null)
          : null,
  }
  return { settings, prediction }
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

/** A co-division epoch's division, and the classes relabelled samples train as (`man.relabel`). */
interface EpochDivision {
  counts: PartitionCounts
  relabels: Int32Array | null
}

/**
 * Divides the training set with both networks' predictions and writes the
 * partition, or (resuming inside the epoch) reads back the one the epoch was
 * trained with.
 */
async function epochPartition(
  ctx: EpochContext,
  epoch: number,
  startBatch: number,
  progress: EpochProgress,
  decided: BindingPrediction | null,
): Promise<EpochDivision> {
  const { plan, config, saver } = ctx
  const { replicas } = saver
  const nTrain = plan.trainMembers.length
  if (startBatch === 0) {
    const t0 = performance.now()
    const prediction = decided ?? (await predictTrain(ctx, epoch))
    let division = coDivide(prediction.pred1, prediction.pred2, plan.trainLabels, ctx.codes)
    const first = saver.history.find((h) => h.partition !== null)?.partition
    if (config.man.noisyBound === 'first' && first != null) {
      division = boundNoisy(division, plan.trainLabels, prediction.probs!, plan.classNames.length, first.noisy)
    }
    const counts = { clean: division.clean, ambiguous: division.ambiguous, noisy: division.noisy }
    const relabels = config.man.relabel === 'agreed' ? relabelAgreed(ctx.codes, prediction.pred1, prediction.pred2) : null
    // Every rank divided the same gathered predictions; rank 0 writes the result.
    if (replicas.isMain) await writePartition(saver.runDir, epoch, ctx.codes, counts, relabels)
    progress.coDivisionMs += performance.now() - t0
    return { counts, relabels }
  }
  // Resuming inside the epoch: the partition it was trained with, read by rank 0.
  const saved = await replicas.fromMain(async () => {
    const read = await readPartition(saver.runDir, epoch)
    if (read.codes.length !== nTrain) {
      throw new ManError('ERR_MAN_RUN_DIR', `${saver.runDir}: partition of epoch ${epoch} has ${read.codes.length} samples, expected ${nTrain}`)
    }
    if ((config.man.relabel === 'agreed') !== (read.relabels !== null)) {
      throw new ManError('ERR_MAN_RUN_DIR', `${saver.runDir}: partition of epoch ${epoch} ${read.relabels === null ? 'lacks' : 'has'} relabels, but man.relabel is '${config.man.relabel}'`)
    }
    return { codes: Array.from(read.codes), counts: read.counts, relabels: read.relabels === null ? null : Array.from(read.relabels) }
  })
  ctx.codes.set(saved.codes)
  return { counts: saved.counts, relabels: saved.relabels === null ? null : Int32Array.from(saved.relabels) }
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
  epochPlan: EpochPlan,
  start: Position,
  segmentStart: number,
): Promise<TrainedEpoch | null> {
  const { config, trainer, plan, saver } = ctx
  const { settings } = epochPlan
  const { epoch, phase } = settings
  const startBatch = start.nextBatch
  // A checkpoint written before the data/compute split lacks those sums.
  const progress = start.progress !== null ? { ...emptyProgress(), ...start.progress } : emptyProgress()
  progress.agreement = settings.agreement
  const here = (nextBatch: number): Position => ({
    epoch,
    nextBatch,
    progress: { ...progress, wallMs: progress.wallMs + performance.now() - segmentStart },
  })
  await saver.stopIfAborted(here(startBatch))

  callNativeSync(() => trainer.setLr(settings.lr))
  const division = phase === 'co-division' ? await epochPartition(ctx, epoch, startBatch, progress, epochPlan.prediction) : null
  const targets = division === null ? null : stepTargets(plan.trainLabels, ctx.codes, division.relabels)

  const nTrain = plan.trainMembers.length
  const order = epochOrder(nTrain, config.train.batchSize, config.train.seed, epoch, config.train.sampler === 'balanced' ? plan.trainLabels : undefined)
  // The epoch's samples in visiting order, gathered once: each batch is then
  // a view (no per-sample work between steps), and the next batch can be
  // announced to the addon, which builds its views while the step trains.
  const ordered = orderedSamples(order.order, plan.trainMembers, targets?.labels ?? plan.trainLabels, targets?.codes ?? null)
  const { replicas } = saver
  // λ is set exactly in co-division epochs, whose batches carry partition codes.
  const weights =
    settings.lambda === null
      ? null
      : {
          lambda: settings.lambda,
          omega: config.man.omega,
          gamma: config.man.gamma,
          detachWeak: config.man.consistencyGradient === 'strong',
          joint: config.man.subsetPasses === 'joint',
          batchShare: config.man.subsetWeighting === 'batch',
          ...(config.man.noisyLoss === 'pseudo-label' && { pseudoThreshold: config.man.pseudoThreshold }),
        }
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
  return { progress, partition: division?.counts ?? null }
}
