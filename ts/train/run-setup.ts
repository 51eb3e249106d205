/**
 * Everything before the first epoch: the run directory locked and checked (a
 * new run must not overwrite one, and clears what a failed start left; a
 * resumed one must match its configuration), the datasets opened, the
 * trainer created, and then either a fresh run directory written (undone if
 * the start fails before its first checkpoint) or the newest intact
 * checkpoint restored.
 */
import path from 'node:path'

import type { ManConfig } from '../config/index.ts'
import { callNativeSync, ManError } from '../errors.ts'
import type { BindingTrainer } from '../native/binding.ts'
import { getBinding } from '../native/index.ts'
import { configDifferences, configHash, type CheckpointMeta } from './checkpoint.ts'
import { checkpointCandidates, fallbackNotice, noUsableCheckpoint, type CheckpointChoice } from './checkpoint-select.ts'
import { CheckpointSaver, type Position } from './checkpoint-saver.ts'
import { planData, type DataPlan } from './data-plan.ts'
import { loadPretrained } from './load-pretrained.ts'
import { openDatasets, type Datasets } from './open-data.ts'
import {
  appendEvent,
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
import {
  clearHalfMadeRun,
  openForResume,
  openForStart,
  runDirState,
  undoFailedStart,
  type OpenedRunDir,
} from './run-lifecycle.ts'
import type { RunLock } from './run-lock.ts'
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
  /** This process's hold on the run directory; released when training ends. */
  lock: RunLock
}

type Warn = (message: string) => void

export async function setUpRun(config: ManConfig, options: TrainOptions): Promise<Run> {
  // Loaded first: a missing addon or libtorch is what a user must fix before anything else.
  getBinding()
  const runDir = path.resolve(options.resume ?? config.out ?? defaultRunDir(config))
  const warnings: string[] = []
  const warn: Warn = (message) => {
    warnings.push(message)
    options.onWarning?.(message)
  }
  const run = options.resume !== undefined ? await setUpResume(runDir, config, options, warn) : await setUpStart(runDir, config, options, warn)
  for (const message of warnings) await appendEvent(runDir, { event: 'warning', message })
  return run
}

function warnCleared(runDir: string, cleared: string[], warn: Warn): void {
  if (cleared.length === 0) return
  const names = cleared.map((f) => path.relative(runDir, f))
  warn(`removed what an interrupted start or write had left in ${runDir}: ${names.slice(0, 5).join(', ')}${names.length > 5 ? `, ... (${names.length})` : ''}`)
}

/** The datasets, the plan and a trainer with its saver, for a run in `runDir`. */
async function prepare(runDir: string, config: ManConfig, options: TrainOptions, warn: Warn): Promise<Omit<Run, 'position' | 'lock'>> {
  const data = await openDatasets(config, options, warn)
  const plan = planData(data.index, config)
  const trainer = callNativeSync(() => getBinding().Trainer.create(trainerOptions(config, plan.classNames.length)))
  const identity = {
    configHash: configHash(config),
    method: config.method,
    classNames: plan.classNames,
    imageSize: config.train.imageSize,
    trainSize: plan.trainMembers.length,
  }
  return { runDir, data, plan, trainer, saver: new CheckpointSaver(trainer, runDir, identity, options.signal) }
}

/**
 * A new run: the directory locked, a real run refused untouched, what a
 * failed start left cleared; and if this start fails before its first
 * checkpoint, what it wrote is removed again, so the corrected command runs.
 */
async function setUpStart(runDir: string, config: ManConfig, options: TrainOptions, warn: Warn, held?: OpenedRunDir): Promise<Run> {
  const opened = held ?? (await openForStart(runDir))
  try {
    warnCleared(runDir, opened.cleared, warn)
    const run = await prepare(runDir, config, options, warn)
    const position = await startRun(run, config)
    return { ...run, position, lock: opened.lock }
  } catch (err) {
    await undoFailedStart(runDir, opened)
    throw err
  }
}

/** An existing run, from the newest checkpoint that is whole. */
async function setUpResume(runDir: string, config: ManConfig, options: TrainOptions, warn: Warn): Promise<Run> {
  if (!(await exists(path.join(runDir, CONFIG_FILE)))) {
    throw new ManError('ERR_MAN_RUN_DIR', `${runDir} is not a run directory (no ${CONFIG_FILE}): nothing to resume`)
  }
  const { lock, cleared } = await openForResume(runDir)
  try {
    warnCleared(runDir, cleared, warn)
    if ((await runDirState(runDir)) === 'half-made') {
      // Nothing was trained yet: resuming is starting again with the saved configuration.
      warn(`${runDir} never reached its first checkpoint: starting it again`)
      await clearHalfMadeRun(runDir)
      const opened: OpenedRunDir = { lock, created: false, cleared: [] }
      return await setUpStart(runDir, config, options, warn, opened)
    }
    const choice = await checkpointCandidates(runDir)
    const newest = choice.candidates[0]
    if (newest === undefined) throw noUsableCheckpoint(runDir, choice.unreadable)
    // Checked from the checkpoint's header before the slow dataset scan.
    await assertResumable(runDir, config, newest.meta)
    const run = await prepare(runDir, config, options, warn)
    const position = await resumeRun(run.saver, choice, warn)
    return { ...run, position, lock }
  } catch (err) {
    await lock.release()
    throw err
  }
}

async function assertResumable(runDir: string, config: ManConfig, meta: CheckpointMeta): Promise<void> {
  if (meta.configHash !== configHash(config)) {
    const saved = await readJson<unknown>(path.join(runDir, CONFIG_FILE))
    const diff = configDifferences(saved, config)
    throw new ManError(
      'ERR_MAN_RUN_DIR',
      `cannot resume ${runDir}: the configuration differs from the run's ${CONFIG_FILE}` +
        (diff.length > 0 ? ` (${diff.join(', ')})` : ''),
    )
  }
}

/**
 * Restores the newest checkpoint the addon can load; when that is not
 * `last`, says so and makes `last` a whole copy of it again.
 */
async function resumeRun(saver: CheckpointSaver, choice: CheckpointChoice, warn: Warn): Promise<Position> {
  const unreadable = [...choice.unreadable]
  for (const candidate of choice.candidates) {
    let position: Position
    try {
      position = await saver.restore(candidate.file)
    } catch (err) {
      if (!(err instanceof ManError) || !['ERR_MAN_WEIGHTS', 'ERR_MAN_IO'].includes(err.code)) throw err
      unreadable.push({ which: candidate.which, file: candidate.file, reason: err.message })
      continue
    }
    const notice = fallbackNotice(candidate, unreadable)
    if (notice !== null) {
      warn(notice)
      await saver.repairLast(candidate.file)
    }
    await reconcileEvents(saver.runDir, saver.history)
    await appendEvent(saver.runDir, { event: 'resume', epoch: position.epoch, batch: position.nextBatch + 1 })
    return position
  }
  throw noUsableCheckpoint(saver.runDir, unreadable)
}

/** Writes a fresh run directory and the starting weights, so that a run stopped in its first epoch can resume. */
async function startRun(run: Omit<Run, 'position' | 'lock'>, config: ManConfig): Promise<Position> {
  const { runDir, data, plan, trainer, saver } = run
  // Before anything is written: a weights file that does not fit leaves no run behind.
  if (config.model.pretrained !== undefined) {
    saver.pretrained = await loadPretrained(trainer, path.resolve(config.model.pretrained))
  }
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
    pretrained: saver.pretrained,
  }
  await writeJsonAtomic(path.join(runDir, RUN_FILE), info)
  await writePartitionNames(runDir, plan.trainNames)
  if (plan.noise !== null) {
    await writeJsonAtomic(path.join(runDir, NOISE_FILE), {
      rate: plan.noise.rate,
      seed: plan.noise.seed,
      ...(plan.noise.file !== undefined ? { file: plan.noise.file } : {}),
      flipped: Array.from(plan.noise.flipped),
      names: Array.from(plan.noise.flipped, (i) => plan.trainPaths[i]),
    })
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
    noise: plan.noise === null ? null : { rate: plan.noise.rate, flipped: plan.noise.flipped.length, file: plan.noise.file ?? null },
    pretrained: saver.pretrained,
    skipped: data.skipped,
    dataNotes: data.notes,
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
