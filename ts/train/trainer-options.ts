/** The addon's trainer options from a resolved configuration: one place maps the two. */
import type { ManConfig } from '../config/schema.ts'
import type { BindingTrainerOptions } from '../native/binding.ts'

export function trainerOptions(config: ManConfig, numClasses: number): BindingTrainerOptions {
  return {
    numClasses,
    device: config.runtime.device,
    threads: config.runtime.threads,
    seed: config.train.seed,
    lr: config.train.lr,
    beta1: config.train.beta1,
    beta2: config.train.beta2,
    eps: config.train.eps,
    weightDecay: config.train.weightDecay,
    mixedPrecision: config.runtime.mixedPrecision,
    precision: config.runtime.precision ?? 'auto',
    backward: config.runtime.backward ?? 'per-network',
    allocator: config.runtime.allocator ?? 'lean',
  }
}
