/**
 * The training loop of METHOD.md: warm-up epochs with cross-entropy, then per
 * epoch a co-division of the training set and tri-regularised steps. The
 * addon does the tensor work; this file decides what runs when, keeps the run
 * directory, and makes a stopped run resumable at the exact batch.
 */
import path from 'node:path'

import { resolveConfig, type ConfigInput, type ManConfig } from '../config/index.ts'
import { loadDataset } from '../data/index.ts'
import { linkFileAtomic } from '../data/atomic-write.ts'
import { noiseDetection, type NoiseDetection } from '../data/noise.ts'
import type { DatasetIndex } from '../data/types.ts'
import { callNative, callNativeSync, ConfigError, ManError } from '../errors.ts'
import type { BindingDataset, BindingPrediction, BindingStepResult, BindingTrainer } from '../native/binding.ts'
import { getBinding } from '../native/index.ts'
import {
  CHECKPOINT_KIND,
  configDifferences,
  configHash,
  parseCheckpointMeta,
  readCheckpointMeta,
  type CheckpointMeta,
  type EpochProgress,
} from './checkpoint.ts'
import { boundNoisy, coDivide } from './co-division.ts'
import { planData, withoutFailures } from './data-plan.ts'
import { epochOrder, orderedSamples } from './epoch-order.ts'
import { evaluatePrediction, type SplitEvaluation } from './evaluation.ts'
import {
  appendEvent,
  assertNoRun,
  checkpointPath,
  CONFIG_FILE,
  createRunDir,
  exists,
  NOISE_FILE,
  partitionPath,
  readEvents,
  readJson,
  readPartition,
  rewriteEvents,
  RUN_FILE,
  writeJsonAtomic,
  writePartition,
  writePartitionNames,
  type PartitionCounts,
  type RunEvent,
} from './run-dir.ts'
import { isWarmup, lambdaAt, lrAt } from './schedule.ts'
import type {
  BatchInfo,
  BestEpoch,
  CallbackControl,
  EpochPhase,
  EpochSummary,
  PretrainedReport,
  TrainOptions,
  TrainResult,
} from './types.ts'
import { trainerOptions } from './trainer-options.ts'

/** What run.json holds: what a model needs besides its weights. */
export interface RunInfo {
  classNames: string[]
  imageSize: number
  method: ManConfig['method']
  dataset: { root: string; format: string; train: number; validation: number; test: number }
}

function isStop(control: CallbackControl): boolean {
  return control === 'stop' || (typeof control === 'object' && control !== null && control.stop === true)
}

function emptyProgress(): EpochProgress {
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

function defaultRunDir(config: ManConfig): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return path.resolve('runs', `${stamp}-${config.method}`)
}

async function loadIndex(config: ManConfig, options: TrainOptions): Promise<{ index: DatasetIndex; skipped: string[] }> {
  if (options.dataset !== undefined) return { index: options.dataset, skipped: [] }
  if (config.data.path === undefined) {
    throw new ConfigError(['Invalid value for option data.path: required (or pass options.dataset)'])
  }
  return loadDataset({ path: config.data.path, format: config.data.format, skipBad: config.data.skipBad })
}

interface Datasets {
  index: DatasetIndex
  train: BindingDataset
  test: BindingDataset
  skipped: string[]
}

/**
 * Decodes every image once up front, so a broken file fails the run at the
 * start (or is dropped with skipBad) instead of in the middle of an epoch.
 */
async function openDatasets(index: DatasetIndex, config: ManConfig): Promise<Datasets> {
  const binding = getBinding()
  const open = (idx: DatasetIndex) => {
    const nTrain = idx.train.paths.length
    const nTest = idx.test.paths.length
    const budget = config.runtime.cacheMB * 1024 * 1024
    const options = (n: number) => ({
      imageSize: config.train.imageSize,
      seed: config.train.seed,
      cacheBytes: Math.floor((budget * n) / Math.max(1, nTrain + nTest)),
      threads: config.runtime.dataThreads,
    })
    return {
      train: callNativeSync(() => binding.Dataset.fromPaths(idx.train.paths, options(nTrain))),
      test: callNativeSync(() => binding.Dataset.fromPaths(idx.test.paths, options(nTest))),
    }
  }
  let opened = open(index)
  const trainFailures = await callNative(() => opened.train.scan())
  const testFailures = await callNative(() => opened.test.scan())
  const failures = [...trainFailures, ...testFailures]
  if (failures.length === 0) return { index, ...opened, skipped: [] }
  const lines = failures.map((f) => f.message)
  if (!config.data.skipBad) {
    const shown = lines.slice(0, 10).join('\n')
    const more = lines.length > 10 ? `\n... and ${lines.length - 10} more` : ''
    throw new ManError(
      'ERR_MAN_DECODE',
      `${failures.length} image(s) cannot be read (set data.skipBad to drop them):\n${shown}${more}`,
    )
  }
  const filtered = withoutFailures(
    index,
    new Set(trainFailures.map((f) => f.index)),
    new Set(testFailures.map((f) => f.index)),
  )
  opened = open(filtered)
  return { index: filtered, ...opened, skipped: lines }
}

/**
 * λ of a co-division epoch; with `man.lambdaRamp: 'co-division'` the ramp
 * spans the epochs from the first co-division on.
 */
function lambdaOf(config: ManConfig, epoch: number, history: EpochSummary[]): number {
  const ramp = { lambdaMax: config.man.lambdaMax, beta: config.man.beta, rampFraction: config.man.rampFraction }
  if (config.man.lambdaRamp === 'run') return lambdaAt(epoch, config.train.epochs, ramp)
  const warmedUp = (history.find((h) => h.phase === 'co-division')?.epoch ?? epoch) - 1
  return lambdaAt(epoch - warmedUp, config.train.epochs - warmedUp, ramp)
}

/** Mean over the two networks of the fraction of samples whose given label they predict. */
function agreementOf(prediction: BindingPrediction, labels: Int32Array): number {
  let hits = 0
  for (let i = 0; i < labels.length; i++) hits += (prediction.pred1[i] === labels[i] ? 1 : 0) + (prediction.pred2[i] === labels[i] ? 1 : 0)
  return labels.length === 0 ? 0 : hits / (2 * labels.length)
}

/**
 * Warm-up or co-division for `epoch`, and the training-set prediction made to
 * decide it (reused for the co-division). With `train.warmupEnd: 'plateau'`,
 * each epoch after `warmupMin` starts with a prediction pass; warm-up ends
 * once agreement with the given labels gains less than `warmupPlateau` over
 * the epoch before, or after `train.warmup` epochs. A run resumed inside an
 * epoch keeps that epoch's phase: a co-division epoch has its partition file.
 */
async function decidePhase(
  config: ManConfig,
  epoch: number,
  startBatch: number,
  history: EpochSummary[],
  runDir: string,
  predict: () => Promise<BindingPrediction>,
  labels: Int32Array,
): Promise<{ phase: EpochPhase; prediction: BindingPrediction | null }> {
  if (config.method === 'ce') return { phase: 'ce', prediction: null }
  if (config.train.warmupEnd === 'fixed') {
    return { phase: isWarmup(epoch, config.train.warmup) ? 'warmup' : 'co-division', prediction: null }
  }
  if (history.some((h) => h.phase === 'co-division') || epoch > config.train.warmup) {
    return { phase: 'co-division', prediction: null }
  }
  if (startBatch > 0) {
    return { phase: (await exists(partitionPath(runDir, epoch))) ? 'co-division' : 'warmup', prediction: null }
  }
  if (epoch <= config.train.warmupMin) return { phase: 'warmup', prediction: null }
  const prediction = await predict()
  const before = history.at(-1)?.agreement
  const gain = before === null || before === undefined ? null : agreementOf(prediction, labels) - before
  return { phase: gain !== null && gain < config.train.warmupPlateau ? 'co-division' : 'warmup', prediction }
}

function meanLast(history: EpochSummary[], n: number): number | null {
  const tail = history.slice(-n)
  if (tail.length === 0) return null
  return tail.reduce((s, h) => s + h.test.accuracy, 0) / tail.length
}

/** Where the run resumes, read back from checkpoints/last. */
interface Position {
  epoch: number
  nextBatch: number
  progress: EpochProgress | null
}

/** Trains two ResNet-18s with MAN (or the CE baseline) and returns the run's history. */
export async function train(input: ConfigInput, options: TrainOptions = {}): Promise<TrainResult> {
  const config = resolveConfig(input)
  const { signal } = options
  signal?.throwIfAborted()
  const binding = getBinding()
  const resuming = options.resume !== undefined
  const runDir = path.resolve(options.resume ?? config.out ?? defaultRunDir(config))
  if (resuming && !(await exists(path.join(runDir, CONFIG_FILE)))) {
    throw new ManError('ERR_MAN_RUN_DIR', `${runDir} is not a run directory (no ${CONFIG_FILE}): nothing to resume`)
  }
  if (!resuming) await assertNoRun(runDir)
  const hash = configHash(config)
  // Checked from the checkpoint's header before the slow dataset scan.
  if (resuming) await assertResumable(runDir, config, hash)

  const loaded = await loadIndex(config, options)
  const opened = await openDatasets(loaded.index, config)
  const plan = planData(opened.index, config)
  const skipped = [...loaded.skipped, ...opened.skipped]
  const numClasses = plan.classNames.length
  const epochs = config.train.epochs

  const trainer: BindingTrainer = callNativeSync(() =>
    binding.Trainer.create(trainerOptions(config, numClasses)),
  )

  let history: EpochSummary[] = []
  let best: BestEpoch | null = null
  let pretrained: PretrainedReport | null = null
  let position: Position = { epoch: 1, nextBatch: 0, progress: null }
  /** The position checkpoints/last currently holds, to avoid writing it twice. */
  let savedPosition: { epoch: number; nextBatch: number } | null = null

  const meta = (p: Position): CheckpointMeta => ({
    kind: CHECKPOINT_KIND,
    version: 1,
    configHash: hash,
    method: config.method,
    classNames: plan.classNames,
    imageSize: config.train.imageSize,
    trainSize: plan.trainMembers.length,
    epoch: p.epoch,
    nextBatch: p.nextBatch,
    progress: p.progress,
    history,
    best,
    pretrained,
  })
  /** Writes `last`, or `best` with `last` as a second name of the same file (one write, not two). */
  const save = async (which: 'last' | 'best', p: Position) => {
    await callNative(() => trainer.save(checkpointPath(runDir, which), JSON.stringify(meta(p))))
    if (which === 'best') await linkFileAtomic(checkpointPath(runDir, 'best'), checkpointPath(runDir, 'last'))
    savedPosition = { epoch: p.epoch, nextBatch: p.nextBatch }
  }
  const result = (stopped: boolean): TrainResult => ({
    runDir,
    config,
    stopped,
    epochsCompleted: history.length,
    history,
    best,
    lastTestAccuracy: history.at(-1)?.test.accuracy ?? null,
    meanLast5TestAccuracy: meanLast(history, 5),
    checkpoints: { last: checkpointPath(runDir, 'last'), best: best === null ? null : checkpointPath(runDir, 'best') },
    pretrained,
  })

  if (resuming) {
    const lastFile = checkpointPath(runDir, 'last')
    const restored = parseCheckpointMeta(await callNative(() => trainer.load(lastFile)), lastFile)
    if (restored.trainSize !== plan.trainMembers.length) {
      throw new ManError(
        'ERR_MAN_RUN_DIR',
        `cannot resume ${runDir}: it trained on ${restored.trainSize} samples, the dataset now gives ${plan.trainMembers.length}`,
      )
    }
    history = restored.history
    best = restored.best
    pretrained = restored.pretrained
    position = { epoch: restored.epoch, nextBatch: restored.nextBatch, progress: restored.progress }
    savedPosition = { epoch: restored.epoch, nextBatch: restored.nextBatch }
    await reconcileEvents(runDir, history)
    await appendEvent(runDir, { event: 'resume', epoch: position.epoch, batch: position.nextBatch + 1 })
  } else {
    await createRunDir(runDir)
    await writeJsonAtomic(path.join(runDir, CONFIG_FILE), { ...config, out: runDir })
    const info: RunInfo = {
      classNames: plan.classNames,
      imageSize: config.train.imageSize,
      method: config.method,
      dataset: {
        root: opened.index.root,
        format: opened.index.format,
        train: plan.trainMembers.length,
        validation: plan.valMembers.length,
        test: plan.test.paths.length,
      },
    }
    await writeJsonAtomic(path.join(runDir, RUN_FILE), info)
    await writePartitionNames(runDir, plan.trainNames)
    if (plan.noise !== null) {
      await writeJsonAtomic(path.join(runDir, NOISE_FILE), {
        rate: plan.noise.rate,
        seed: plan.noise.seed,
        flipped: Array.from(plan.noise.flipped),
        names: Array.from(plan.noise.flipped, (i) => plan.trainPaths[i]),
      })
    }
    if (config.model.pretrained !== undefined) {
      pretrained = await loadPretrained(trainer, path.resolve(config.model.pretrained))
    }
    await appendEvent(runDir, {
      event: 'start',
      runDir,
      method: config.method,
      epochs,
      device: trainer.device,
      classNames: plan.classNames,
      train: plan.trainMembers.length,
      validation: plan.valMembers.length,
      test: plan.test.paths.length,
      noise: plan.noise === null ? null : { rate: plan.noise.rate, flipped: plan.noise.flipped.length },
      pretrained,
      skipped,
    })
    // The starting weights, so that a run stopped in its first epoch can resume.
    await save('last', position)
  }

  const abortNow = async (p: Position): Promise<never> => {
    if (savedPosition?.epoch !== p.epoch || savedPosition.nextBatch !== p.nextBatch) await save('last', p)
    await appendEvent(runDir, { event: 'abort', epoch: p.epoch, batch: p.nextBatch, reason: String(signal?.reason) })
    throw signal?.reason
  }

  const nTrain = plan.trainMembers.length
  const allTest = Uint32Array.from({ length: plan.test.paths.length }, (_, i) => i)
  const codes = new Uint8Array(nTrain)

  for (let epoch = position.epoch; epoch <= epochs; epoch++) {
    const segmentStart = performance.now()
    const startBatch = epoch === position.epoch ? position.nextBatch : 0
    // A checkpoint written before the data/compute split lacks those sums.
    const progress =
      epoch === position.epoch && position.progress !== null ? { ...emptyProgress(), ...position.progress } : emptyProgress()
    const here = (nextBatch: number): Position => ({
      epoch,
      nextBatch,
      progress: { ...progress, wallMs: progress.wallMs + performance.now() - segmentStart },
    })
    if (signal?.aborted) await abortNow(here(startBatch))

    const lr = lrAt(epoch, { lr: config.train.lr, decay: config.train.lrDecay })
    callNativeSync(() => trainer.setLr(lr))
    const t0Phase = performance.now()
    const trainPrediction = () =>
      callNative(() =>
        trainer.predict(
          opened.train,
          plan.trainMembers,
          config.man.coDivisionView,
          epoch,
          config.runtime.evalBatchSize,
          config.man.noisyBound !== 'none',
        ),
      )
    const decided = await decidePhase(config, epoch, startBatch, history, runDir, trainPrediction, plan.trainLabels)
    const { phase } = decided
    let prediction = decided.prediction
    const agreement = prediction === null ? null : agreementOf(prediction, plan.trainLabels)
    progress.coDivisionMs += performance.now() - t0Phase
    const lambda = phase === 'co-division' ? lambdaOf(config, epoch, history) : null

    let partition: PartitionCounts | null = null
    if (phase === 'co-division') {
      if (startBatch === 0) {
        const t0 = performance.now()
        const firstNoisy = history.find((h) => h.partition !== null)?.partition?.noisy
        const bound = config.man.noisyBound === 'first' && firstNoisy !== undefined ? firstNoisy : null
        prediction ??= await trainPrediction()
        let division = coDivide(prediction.pred1, prediction.pred2, plan.trainLabels, codes)
        if (bound !== null) division = boundNoisy(division, plan.trainLabels, prediction.probs!, numClasses, bound)
        partition = { clean: division.clean, ambiguous: division.ambiguous, noisy: division.noisy }
        await writePartition(runDir, epoch, codes, partition)
        progress.coDivisionMs += performance.now() - t0
      } else {
        // Resuming inside the epoch: the partition it was trained with, not a new one.
        const saved = await readPartition(runDir, epoch)
        if (saved.codes.length !== nTrain) {
          throw new ManError('ERR_MAN_RUN_DIR', `${runDir}: partition of epoch ${epoch} has ${saved.codes.length} samples, expected ${nTrain}`)
        }
        codes.set(saved.codes)
        partition = saved.counts
      }
    }

    const order = epochOrder(nTrain, config.train.batchSize, config.train.seed, epoch)
    // The epoch's samples in visiting order, gathered once: each batch is then
    // a view (no per-sample work between steps), and the next batch can be
    // announced to the addon, which builds its views while the step trains.
    const ordered = orderedSamples(order.order, plan.trainMembers, plan.trainLabels, phase === 'co-division' ? codes : null)
    const slice = (b: number) => {
      const start = b * order.batchSize
      const end = Math.min(nTrain, start + order.batchSize)
      return {
        indices: ordered.indices.subarray(start, end),
        labels: ordered.labels.subarray(start, end),
        codes: ordered.codes?.subarray(start, end) ?? null,
      }
    }
    for (let b = startBatch; b < order.batches; b++) {
      const { indices, labels, codes: batchCodes } = slice(b)
      const size = indices.length
      const next = b + 1 < order.batches ? slice(b + 1) : null
      const t0 = performance.now()
      let step: BindingStepResult
      if (batchCodes !== null) {
        step = await callNative(() =>
          trainer.coDivisionStep(
            opened.train,
            indices,
            labels,
            batchCodes,
            epoch,
            lambda!,
            config.man.omega,
            config.man.gamma,
            next?.indices,
            next?.codes,
            config.man.consistencyGradient === 'strong',
          ),
        )
      } else {
        step = await callNative(() => trainer.warmupStep(opened.train, indices, labels, epoch, next?.indices))
      }
      progress.trainMs += performance.now() - t0
      // An addon built before the split reports neither.
      progress.dataMs += step.dataMs ?? 0
      progress.computeMs += step.computeMs ?? 0
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

      const info: BatchInfo = {
        epoch,
        batch: b + 1,
        batches: order.batches,
        size,
        phase,
        lr,
        lambda,
        loss: { total: step.loss, clean: step.lossClean, ambiguous: step.lossAmbiguous, noisy: step.lossNoisy },
        counts: { clean: step.clean, ambiguous: step.ambiguous, noisy: step.noisy },
      }
      const control = await options.onBatch?.(info)
      if (isStop(control)) {
        await save('last', here(b + 1))
        await appendEvent(runDir, { event: 'stop', epoch, batch: b + 1, by: 'onBatch' })
        return result(true)
      }
      if (signal?.aborted) await abortNow(here(b + 1))
    }

    const t0 = performance.now()
    const testPrediction = await callNative(() =>
      trainer.predict(opened.test, allTest, 'test', epoch, config.runtime.evalBatchSize, true),
    )
    const test = evaluatePrediction(testPrediction, plan.test.labels, plan.classNames)
    let validation: SplitEvaluation | null = null
    if (plan.valMembers.length > 0) {
      const valPrediction = await callNative(() =>
        trainer.predict(opened.train, plan.valMembers, 'test', epoch, config.runtime.evalBatchSize, true),
      )
      validation = evaluatePrediction(valPrediction, plan.valLabels, plan.classNames)
    }
    const evalMs = performance.now() - t0

    let detection: NoiseDetection | null = null
    if (partition !== null && plan.flippedMask !== null) detection = noiseDetection(codes, plan.flippedMask)

    const selectedBy = validation !== null ? 'validation' : 'test'
    const selectionScore = validation !== null ? validation.accuracy : test.accuracy
    const isBest = best === null || selectionScore > best.score
    const n = Math.max(1, progress.samples)
    const summary: EpochSummary = {
      epoch,
      epochs,
      phase,
      lr,
      lambda,
      loss: {
        total: progress.lossSums.total / n,
        clean: progress.lossSums.clean / n,
        ambiguous: progress.lossSums.ambiguous / n,
        noisy: progress.lossSums.noisy / n,
      },
      samples: progress.samples,
      trainAccuracy1: progress.correct1 / n,
      trainAccuracy2: progress.correct2 / n,
      agreement,
      partition,
      noiseDetection: detection,
      test,
      validation,
      isBest,
      timings: {
        coDivisionMs: progress.coDivisionMs,
        trainMs: progress.trainMs,
        dataMs: progress.dataMs,
        computeMs: progress.computeMs,
        evalMs,
        totalMs: progress.wallMs + performance.now() - segmentStart,
      },
    }
    history = [...history, summary]
    const next: Position = { epoch: epoch + 1, nextBatch: 0, progress: null }
    if (isBest) {
      best = {
        epoch,
        selectedBy,
        score: selectionScore,
        testAccuracy: test.accuracy,
        validationAccuracy: validation?.accuracy ?? null,
      }
    }
    await save(isBest ? 'best' : 'last', next)
    // Epoch-sized buffers freed on native threads stay in glibc's arenas unless handed back; this keeps RSS flat over epochs.
    callNativeSync(() => binding.releaseMemory())
    await appendEvent(runDir, { event: 'epoch', ...summary })
    const control = await options.onEpoch?.(summary)
    if (isStop(control) && epoch < epochs) {
      await appendEvent(runDir, { event: 'stop', epoch: epoch + 1, batch: 1, by: 'onEpoch' })
      return result(true)
    }
    if (signal?.aborted && epoch < epochs) await abortNow(next)
  }

  const done = result(false)
  await appendEvent(runDir, {
    event: 'end',
    epochs: done.epochsCompleted,
    best: done.best,
    lastTestAccuracy: done.lastTestAccuracy,
    meanLast5TestAccuracy: done.meanLast5TestAccuracy,
  })
  return done
}

async function assertResumable(runDir: string, config: ManConfig, hash: string): Promise<void> {
  const lastFile = checkpointPath(runDir, 'last')
  if (!(await exists(lastFile))) {
    throw new ManError('ERR_MAN_RUN_DIR', `${runDir} has no checkpoints/last.safetensors: nothing to resume`)
  }
  const restored = await readCheckpointMeta(lastFile)
  if (restored.configHash !== hash) {
    const saved = await readJson<unknown>(path.join(runDir, CONFIG_FILE))
    const diff = configDifferences(saved, config)
    throw new ManError(
      'ERR_MAN_RUN_DIR',
      `cannot resume ${runDir}: the configuration differs from the run's ${CONFIG_FILE}` +
        (diff.length > 0 ? ` (${diff.join(', ')})` : ''),
    )
  }
}

async function loadPretrained(trainer: BindingTrainer, file: string): Promise<PretrainedReport> {
  const report = await callNative(() => trainer.loadPretrained(file))
  if (report.missing.length > 0) {
    throw new ManError(
      'ERR_MAN_WEIGHTS',
      `${file}: lacks ${report.missing.length} backbone tensor(s) (${report.missing.slice(0, 5).join(', ')}${report.missing.length > 5 ? ', ...' : ''})`,
    )
  }
  return { path: file, loaded: report.loaded.length, skipped: report.skipped, missing: report.missing }
}

/**
 * Leaves metrics.jsonl with exactly one 'epoch' line per completed epoch: a
 * run killed between writing its checkpoint and its line gets the line back,
 * and lines of epochs the checkpoint does not hold are dropped.
 */
async function reconcileEvents(runDir: string, history: EpochSummary[]): Promise<void> {
  const events = await readEvents(runDir)
  const done = new Set(history.map((h) => h.epoch))
  const seen = new Set<number>()
  const kept: RunEvent[] = []
  for (const e of events) {
    if (e.event === 'epoch') {
      const epoch = e.epoch as number
      if (!done.has(epoch) || seen.has(epoch)) continue
      seen.add(epoch)
    }
    kept.push(e)
  }
  const missing = history.filter((h) => !seen.has(h.epoch))
  if (missing.length === 0 && kept.length === events.length) return
  const now = new Date().toISOString()
  for (const h of missing) kept.push({ event: 'epoch', ...h, time: now })
  await rewriteEvents(runDir, kept)
}

/** Continues the run in `runDir` with the configuration it was started with. */
export async function resumeTrain(runDir: string, options: Omit<TrainOptions, 'resume'> = {}): Promise<TrainResult> {
  const saved = await readJson<ConfigInput & { out?: string }>(path.join(runDir, CONFIG_FILE))
  return train({ ...saved, out: path.resolve(runDir) }, { ...options, resume: runDir })
}

