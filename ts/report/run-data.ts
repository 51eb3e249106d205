/**
 * Everything a report shows, read back from a run directory: the resolved
 * config, run.json, the epoch lines of metrics.jsonl, every co-division's
 * codes, and the final ensemble's predictions on the training set (stored by
 * train(), or computed from the last checkpoint when missing).
 */
import path from 'node:path'

import { resolveConfig, type ManConfig } from '../config/index.ts'
import { ManError } from '../errors.ts'
import { CONFIG_FILE, exists, readEvents, readJson, readPartition, RUN_FILE, type RunEvent } from '../train/run-dir.ts'
import type { RunInfo } from '../train/run-dir.ts'
import type { EpochSummary } from '../train/types.ts'
import { readTrainPredictions, type TrainPredictions } from './predictions.ts'
import type { EpochCodes } from './suspects.ts'

export interface RunData {
  runDir: string
  config: ManConfig
  info: RunInfo
  /** One summary per completed epoch, ascending (the last line wins for an epoch written twice). */
  epochs: EpochSummary[]
  start: RunEvent | null
  end: RunEvent | null
  /** Training member names, relative to the dataset root where possible. */
  names: string[]
  /** Co-division codes of every completed co-division epoch, ascending. */
  history: EpochCodes[]
  predictions: TrainPredictions
  /** 'stored': predictions/train-final.json; 'computed': from checkpoints/last for this report. */
  predictionsSource: 'stored' | 'computed'
}

export interface ComputePredictions {
  (run: Omit<RunData, 'predictions' | 'predictionsSource'>): Promise<TrainPredictions>
}

function completedEpochs(events: RunEvent[]): EpochSummary[] {
  const byEpoch = new Map<number, EpochSummary>()
  for (const e of events) {
    if (e.event === 'epoch' && typeof e.epoch === 'number') byEpoch.set(e.epoch, e as unknown as EpochSummary)
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch)
}

/**
 * Reads a run directory. `compute` is called only when the run stored no
 * final predictions; without it such a run is an error that says what is missing.
 */
export async function readRunData(runDir: string, compute?: ComputePredictions): Promise<RunData> {
  const dir = path.resolve(runDir)
  for (const file of [CONFIG_FILE, RUN_FILE]) {
    if (!(await exists(path.join(dir, file)))) throw new ManError('ERR_MAN_RUN_DIR', `${dir} is not a run directory (no ${file})`)
  }
  const config = resolveConfig(await readJson(path.join(dir, CONFIG_FILE)))
  const info = await readJson<RunInfo>(path.join(dir, RUN_FILE))
  const events = await readEvents(dir)
  const epochs = completedEpochs(events)
  if (epochs.length === 0) throw new ManError('ERR_MAN_RUN_DIR', `${dir} has no completed epoch yet: nothing to report`)

  const history: EpochCodes[] = []
  let names: string[] | null = null
  for (const e of epochs) {
    if (e.partition === null) continue
    const p = await readPartition(dir, e.epoch)
    names ??= p.names
    history.push({ epoch: e.epoch, codes: p.codes })
  }
  if (names === null) {
    names = (await readJson<{ names: string[] }>(path.join(dir, 'partitions', 'names.json'))).names
  }

  const base = {
    runDir: dir,
    config,
    info,
    epochs,
    start: events.find((e) => e.event === 'start') ?? null,
    end: events.findLast((e) => e.event === 'end') ?? null,
    names,
    history,
  }
  let predictions = await readTrainPredictions(dir)
  let predictionsSource: RunData['predictionsSource'] = 'stored'
  if (predictions === null) {
    if (compute === undefined) {
      throw new ManError(
        'ERR_MAN_RUN_DIR',
        `${dir} has no predictions/train-final.json (the run stopped before its end, or predates it); ` +
          'let the report compute them from checkpoints/last (needs libtorch and the dataset)',
      )
    }
    predictions = await compute(base)
    predictionsSource = 'computed'
  }
  if (predictions.givenLabels.length !== names.length) {
    throw new ManError(
      'ERR_MAN_RUN_DIR',
      `${dir}: the final predictions cover ${predictions.givenLabels.length} samples, partitions/names.json lists ${names.length}`,
    )
  }
  if (predictions.numClasses !== info.classNames.length) {
    throw new ManError('ERR_MAN_RUN_DIR', `${dir}: the final predictions have ${predictions.numClasses} classes, run.json ${info.classNames.length}`)
  }
  return { ...base, predictions, predictionsSource }
}
