/**
 * The two per-epoch schedules of docs/method.md. Epochs are 1-based everywhere.
 */

export interface LambdaOptions {
  /** λmax, the mutual-learning weight the ramp approaches. */
  lambdaMax?: number
  /** β, how steeply λ ramps up. */
  beta?: number
  /** er as a fraction of the run: er = rampFraction · epochs. */
  rampFraction?: number
}

/** λe = λmax · exp(−β (1 − e/er)²) with er = rampFraction · epochs. */
export function lambdaAt(epoch: number, epochs: number, options: LambdaOptions = {}): number {
  const { lambdaMax = 0.9, beta = 0.65, rampFraction = 0.9 } = options
  const rampEpoch = rampFraction * epochs
  const t = 1 - epoch / rampEpoch
  return lambdaMax * Math.exp(-beta * t * t)
}

export interface LrOptions {
  /** Learning rate of epoch 1. */
  lr?: number
  /** Factor applied after every epoch. */
  decay?: number
}

/** lr of epoch e = lr · decay^(e−1). */
export function lrAt(epoch: number, options: LrOptions = {}): number {
  const { lr = 1e-3, decay = 0.9 } = options
  return lr * decay ** (epoch - 1)
}

/** Epochs 1..warmup train both networks with plain cross-entropy. */
export function isWarmup(epoch: number, warmup: number): boolean {
  return epoch <= warmup
}
