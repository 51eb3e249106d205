/**
 * The training loop of docs/method.md, in the shape of timm's train.py: the
 * run set up (run-setup.ts), then per epoch its steps (train-one-epoch.ts),
 * the evaluation (validate.ts) and the checkpoint (checkpoint-saver.ts). The
 * addon does the tensor work; these files decide what runs when, keep the
 * run directory, and make a stopped run resumable at the exact batch.
 */
import path from 'node:path'

import { resolveConfig, type ConfigInput } from '../config/index.ts'
import { reportAfterTraining } from '../report/after-training.ts'
import { storeFinalPredictions } from '../report/final-predictions.ts'
import { noiseDetection } from '../data/noise.ts'
import { callNativeSync } from '../errors.ts'
import { getBinding } from '../native/index.ts'
import type { CheckpointSaver, Position } from './checkpoint-saver.ts'
import { summariseEpoch } from './epoch-progress.ts'
import { checkTrainOptions } from './check-options.ts'
import { setUpRun, type Run } from './run-setup.ts'
import { CONFIG_FILE, readJson } from './run-dir.ts'
import { isStop, planEpoch, trainOneEpoch, type EpochContext } from './train-one-epoch.ts'
import type { BestEpoch, EpochSummary, TrainOptions, TrainResult } from './types.ts'
import { selection, validate } from './validate.ts'

function meanLast(history: EpochSummary[], n: number): number | null {
  const tail = history.slice(-n)
  if (tail.length === 0) return null
  return tail.reduce((s, h) => s + h.test.accuracy, 0) / tail.length
}

function trainResult(saver: CheckpointSaver, config: TrainResult['config'], stopped: boolean): TrainResult {
  const { history, best } = saver
  return {
    runDir: saver.runDir,
    config,
    stopped,
    epochsCompleted: history.length,
    history,
    best,
    lastTestAccuracy: history.at(-1)?.test.accuracy ?? null,
    meanLast5TestAccuracy: meanLast(history, 5),
    checkpoints: { last: saver.path('last'), best: best === null ? null : saver.path('best') },
    pretrained: saver.pretrained,
    distributed: saver.replicas.distributed ? { rank: saver.replicas.rank, worldSize: saver.replicas.worldSize } : null,
    report: null,
  }
}

/**
 * One epoch from `start`: its steps, the evaluation, the checkpoint and the
 * metrics line. Returns the summary, or null when `onBatch` asked to stop.
 */
async function runEpoch(run: Run, ctx: EpochContext, start: Position): Promise<EpochSummary | null> {
  const segmentStart = performance.now()
  const { config, saver, plan } = ctx
  const epochPlan = await planEpoch(ctx, start)
  const { settings } = epochPlan
  const trained = await trainOneEpoch(ctx, epochPlan, start, segmentStart)
  if (trained === null) return null
  const evaluation = await validate(run.trainer, run.data, plan, config, settings.epoch, run.replicas)
  const chosen = selection(evaluation)
  const isBest = saver.isBest(chosen.score)
  const summary = summariseEpoch({
    settings,
    progress: trained.progress,
    partition: trained.partition,
    noiseDetection: trained.partition !== null && plan.flippedMask !== null ? noiseDetection(ctx.codes, plan.flippedMask) : null,
    ...evaluation,
    totalMs: trained.progress.wallMs + performance.now() - segmentStart,
    isBest,
  })
  const best: BestEpoch | null = isBest
    ? {
        epoch: settings.epoch,
        ...chosen,
        testAccuracy: evaluation.test.accuracy,
        validationAccuracy: evaluation.validation?.accuracy ?? null,
      }
    : null
  await saver.endEpoch(summary, best, { epoch: settings.epoch + 1, nextBatch: 0, progress: null })
  // Epoch-sized buffers freed on native threads stay in glibc's arenas unless handed back; this keeps RSS flat over epochs.
  callNativeSync(() => getBinding().releaseMemory())
  await saver.event({ event: 'epoch', ...summary })
  return summary
}

/** Trains two ResNet-18s with MAN (or the CE baseline) and returns the run's history. */
export async function train(input: ConfigInput, options: TrainOptions = {}): Promise<TrainResult> {
  checkTrainOptions(options)
  const config = resolveConfig(input)
  options.signal?.throwIfAborted()
  const run = await setUpRun(config, options)
  try {
    return await trainEpochs(run, config, options)
  } finally {
    await run.lock.release()
  }
}

/** The epochs of a run that is set up, from where it stands. */
async function trainEpochs(run: Run, config: TrainResult['config'], options: TrainOptions): Promise<TrainResult> {
  const { saver, position } = run
  const epochs = config.train.epochs
  const ctx: EpochContext = {
    config,
    trainer: run.trainer,
    dataset: run.data.train,
    plan: run.plan,
    saver,
    onBatch: options.onBatch,
    codes: new Uint8Array(run.plan.trainMembers.length),
  }

  for (let epoch = position.epoch; epoch <= epochs; epoch++) {
    const start = epoch === position.epoch ? position : { epoch, nextBatch: 0, progress: null }
    const summary = await runEpoch(run, ctx, start)
    if (summary === null) return trainResult(saver, config, true)
    const control = await options.onEpoch?.(summary)
    // Data-parallel: every rank stops when any rank's callback asks to.
    const [stop] = await run.replicas.any([isStop(control)])
    if (stop && epoch < epochs) {
      await saver.event({ event: 'stop', epoch: epoch + 1, batch: 1, by: 'onEpoch' })
      return trainResult(saver, config, true)
    }
    if (epoch < epochs) await saver.stopIfAborted({ epoch: epoch + 1, nextBatch: 0, progress: null })
  }

  await storeFinalPredictions({
    runDir: run.runDir,
    trainer: run.trainer,
    trainSet: run.data.train,
    index: run.data.index,
    plan: run.plan,
    config,
    epoch: saver.history.at(-1)?.epoch ?? epochs,
    replicas: run.replicas,
  })
  const done = trainResult(saver, config, false)
  await saver.event({
    event: 'end',
    epochs: done.epochsCompleted,
    best: done.best,
    lastTestAccuracy: done.lastTestAccuracy,
    meanLast5TestAccuracy: done.meanLast5TestAccuracy,
  })
  // Rank 0 alone writes the run directory.
  return { ...done, report: config.report.html && run.replicas.isMain ? await reportAfterTraining(run.runDir) : null }
}

/** Continues the run in `runDir` with the configuration it was started with. */
export async function resumeTrain(runDir: string, options: Omit<TrainOptions, 'resume'> = {}): Promise<TrainResult> {
  const saved = await readJson<ConfigInput & { out?: string }>(path.join(runDir, CONFIG_FILE))
  return train({ ...saved, out: path.resolve(runDir) }, { ...options, resume: runDir })
}
