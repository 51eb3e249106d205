/**
 * The end-of-epoch evaluation (timm's validate): the ensemble on the test
 * split, and on the validation split carved from the training set when there
 * is one.
 */
import type { ManConfig } from '../config/index.ts'
import { callNative } from '../errors.ts'
import type { BindingTrainer } from '../native/binding.ts'
import type { DataPlan } from './data-plan.ts'
import { evaluatePrediction, type SplitEvaluation } from './evaluation.ts'
import type { Datasets } from './open-data.ts'
import type { BestEpoch } from './types.ts'

export interface Validation {
  test: SplitEvaluation
  validation: SplitEvaluation | null
  evalMs: number
}

export async function validate(
  trainer: BindingTrainer,
  data: Pick<Datasets, 'train' | 'test'>,
  plan: DataPlan,
  config: ManConfig,
  epoch: number,
): Promise<Validation> {
  const t0 = performance.now()
  const batchSize = config.runtime.evalBatchSize
  const allTest = Uint32Array.from({ length: plan.test.paths.length }, (_, i) => i)
  const testPrediction = await callNative(() => trainer.predict(data.test, allTest, 'test', epoch, batchSize, true))
  const test = evaluatePrediction(testPrediction, plan.test.labels, plan.classNames)
  let validation: SplitEvaluation | null = null
  if (plan.valMembers.length > 0) {
    const valPrediction = await callNative(() => trainer.predict(data.train, plan.valMembers, 'test', epoch, batchSize, true))
    validation = evaluatePrediction(valPrediction, plan.valLabels, plan.classNames)
  }
  return { test, validation, evalMs: performance.now() - t0 }
}

/** The score the best checkpoint is chosen on: validation accuracy when a validation split exists, else test accuracy. */
export function selection(v: Validation): Pick<BestEpoch, 'selectedBy' | 'score'> {
  return v.validation !== null
    ? { selectedBy: 'validation', score: v.validation.accuracy }
    : { selectedBy: 'test', score: v.test.accuracy }
}
