/**
 * Everything before the first epoch: the run directory checked (a new run
 * must not overwrite one, a resumed one must match its configuration), the
 * datasets opened, the trainer created, and then either a fresh run
 * directory written or checkpoints/last restored.
 */
import path from 'node:path'

import type { ManConfig } from '../config/index.ts'
import { callNativeSync, ManError } from '../errors.ts'
import type { BindingTrainer } from '../native/binding.ts'
import { getBinding } from '../native/index.ts'
import { configDifferences, configHash, readCheckpointMeta } from './checkpoint.ts'
import { CheckpointSaver, type Position } from './checkpoint-saver.ts'
import { planData, type DataPlan } from './data-plan.ts'
import { loadPretrained } from './load-pretrained.ts'
import { openDatasets, type Datasets } from './open-data.ts'
import {
  appendEvent,
  assertNoRun,
  checkpointPath,
  CONFIG_FILE,
  createRunDir,
  defaultRunDir,
  exists,
  NOISE_FILE,
  readEvents,
  readJson,
  rewriteEvents,
  RUN_FILE,
  writeJsonAtomic,
  writePartitionNames,
  type RunEvent,
  type RunInfo,
} from './run-dir.ts'
import { trainerOptions } from './trainer-options.ts'
import type { EpochSummary, TrainOptions } from './types.ts'

/** A run ready for its next epoch. */
export interface Run {
  runDir: string
  data: Datasets
  plan: DataPlan
  trainer: BindingTrainer
  saver: CheckpointSaver
  /** Where training continues. */
  position: Position
}

export async function setUpRun(config: ManConfig, options: TrainOptions): Promise<Run> {
  // Loaded first: a missing addon or libtorch is what a user must fix before anything else.
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

  const data = await openDatasets(config, options)
  const plan = planData(data.index, config)
  const trainer = callNativeSync(() => binding.Trainer.create(trainerOptions(config, plan.classNames.length)))
  const identity = {
    configHash: hash,
    method: config.method,
    classNames: plan.classNames,
    imageSize: config.train.imageSize,
    trainSize: plan.trainMembers.length,
  }
  const saver = new CheckpointSaver(trainer, runDir, identity, options.signal)
  const run = { runDir, data, plan, trainer, saver }
  const position = resuming ? await resumeRun(saver) : await startRun(run, config)
  return { ...run, position }
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

async function resumeRun(saver: CheckpointSaver): Promise<Position> {
  const position = await saver.restore()
  await reconcileEvents(saver.runDir, saver.history)
  await appendEvent(saver.runDir, { event: 'resume', epoch: position.epoch, batch: position.nextBatch + 1 })
  return position
}

/** Writes a fresh run directory and the starting weights, so that a run stopped in its first epoch can resume. */
async function startRun(run: Omit<Run, 'position'>, config: ManConfig): Promise<Position> {
  const { runDir, data, plan, trainer, saver } = run
  await createRunDir(runDir)
  await writeJsonAtomic(path.join(runDir, CONFIG_FILE), { ...config, out: runDir })
  const info: RunInfo = {
    classNames: plan.classNames,
    imageSize: config.train.imageSize,
    method: config.method,
    dataset: {
      root: data.index.root,
      format: data.index.format,
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
    saver.pretrained = await loadPretrained(trainer, path.resolve(config.model.pretrained))
  }
  await appendEvent(runDir, {
    event: 'start',
    runDir,
    method: config.method,
    epochs: config.train.epochs,
    device: trainer.device,
    classNames: plan.classNames,
    train: plan.trainMembers.length,
    validation: plan.valMembers.length,
    test: plan.test.paths.length,
    noise: plan.noise === null ? null : { rate: plan.noise.rate, flipped: plan.noise.flipped.length },
    pretrained: saver.pretrained,
    skipped: data.skipped,
  })
  const position: Position = { epoch: 1, nextBatch: 0, progress: null }
  await saver.save('last', position)
  return position
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
