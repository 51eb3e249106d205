/**
 * The final ensemble's view of every training sample: stored by train() when
 * it ends, or computed for a report from a run's last checkpoint and its
 * dataset (needs libtorch) when the run has none stored.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'

import { loadDataset } from '../data/index.ts'
import type { DatasetIndex } from '../data/types.ts'
import { callNative, callNativeSync, ManError } from '../errors.ts'
import type { BindingDataset, BindingTrainer } from '../native/binding.ts'
import { getBinding } from '../native/index.ts'
import { planData, type DataPlan } from '../train/data-plan.ts'
import { checkpointPath, exists } from '../train/run-dir.ts'
import { trainerOptions } from '../train/trainer-options.ts'
import type { ManConfig } from '../config/schema.ts'
import { predictTrainingSet, writeTrainPredictions, type TrainPredictions } from './predictions.ts'
import type { RunData } from './run-data.ts'

/** True labels of the training members where known: the truth file's, or the labels before injected noise. */
export function trueMemberLabels(index: DatasetIndex, plan: DataPlan): Int32Array | null {
  const truth = index.trueTrainLabels ?? (plan.noise !== null ? index.train.labels : undefined)
  return truth === undefined ? null : Int32Array.from(plan.trainMembers, (i) => truth[i]!)
}

export interface StoreFinalPredictions {
  runDir: string
  trainer: BindingTrainer
  trainSet: BindingDataset
  index: DatasetIndex
  plan: DataPlan
  config: ManConfig
  epoch: number
}

/** Predicts the training set once with the final weights and writes predictions/train-final.json. */
export async function storeFinalPredictions(s: StoreFinalPredictions): Promise<string> {
  const k = s.plan.classNames.length
  const p = await predictTrainingSet(s.trainer, s.trainSet, s.plan.trainMembers, k, s.epoch, s.config.runtime.evalBatchSize)
  return writeTrainPredictions(s.runDir, {
    epoch: s.epoch,
    numClasses: k,
    givenLabels: s.plan.trainLabels,
    trueLabels: trueMemberLabels(s.index, s.plan),
    ...p,
    runtime: { torch: callNativeSync(() => getBinding().runtimeInfo()).torchVersion, device: s.trainer.device },
  })
}

export interface ComputeOptions {
  /** The dataset, when it is no longer where the run found it. */
  dataRoot?: string
  /** Overrides the run's runtime.device. */
  device?: string
}

function datasetPath(run: Omit<RunData, 'predictions' | 'predictionsSource'>, dataRoot: string | undefined): string {
  if (dataRoot !== undefined) return dataRoot
  const given = run.config.data.path
  if (given !== undefined && path.isAbsolute(given) && existsSync(given)) return given
  return run.info.dataset.root
}

/** Predictions of the run's last checkpoint on its training set, as train() would have stored them. */
export async function computeFinalPredictions(
  run: Omit<RunData, 'predictions' | 'predictionsSource'>,
  options: ComputeOptions = {},
): Promise<TrainPredictions> {
  const { config, runDir } = run
  const last = checkpointPath(runDir, 'last')
  if (!(await exists(last))) throw new ManError('ERR_MAN_RUN_DIR', `${runDir} has neither predictions/train-final.json nor ${last}`)
  const where = datasetPath(run, options.dataRoot)
  const { index } = await loadDataset({ path: where, format: config.data.format, skipBad: config.data.skipBad })
  const plan = planData(index, config)
  const same = plan.trainNames.length === run.names.length && plan.trainNames.every((n, i) => n === run.names[i])
  if (!same) {
    throw new ManError(
      'ERR_MAN_RUN_DIR',
      `the dataset at ${where} no longer gives the ${run.names.length} training images of ${runDir} (partitions/names.json); ` +
        'pass the dataset the run trained on',
    )
  }
  const k = plan.classNames.length
  const runtime = options.device === undefined ? config.runtime : { ...config.runtime, device: options.device }
  const binding = getBinding()
  const trainer = callNativeSync(() => binding.Trainer.create(trainerOptions({ ...config, runtime }, k)))
  await callNative(() => trainer.load(last))
  const trainSet = callNativeSync(() =>
    binding.Dataset.fromPaths(plan.trainPaths, {
      imageSize: config.train.imageSize,
      seed: config.train.seed,
      cacheBytes: config.runtime.cacheMB * 1024 * 1024,
      threads: config.runtime.dataThreads,
    }),
  )
  const epoch = run.epochs.at(-1)!.epoch
  const p = await predictTrainingSet(trainer, trainSet, plan.trainMembers, k, epoch, config.runtime.evalBatchSize)
  return {
    epoch,
    numClasses: k,
    givenLabels: plan.trainLabels,
    trueLabels: trueMemberLabels(index, plan),
    ...p,
    runtime: { torch: callNativeSync(() => binding.runtimeInfo()).torchVersion, device: trainer.device },
  }
}
