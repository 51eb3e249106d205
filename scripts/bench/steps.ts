/**
 * Training steps and the prediction pass through the binding's Trainer, on
 * real batches of the benchmark set: each step's wall time as awaited from
 * TypeScript, and the addon's own split into waiting for views and tensor
 * work; once with every step building its views itself, once with each step
 * announcing the next batch (as train() does) so its views are built while
 * the step trains.
 */
import { callNative, callNativeSync } from '../../ts/errors.ts'
import type { Binding, BindingDataset, BindingStepResult, BindingTrainer } from '../../ts/native/binding.ts'
import { PARTITION_AMBIGUOUS, PARTITION_CLEAN, PARTITION_NOISY } from '../../ts/native/binding.ts'
import { cpuSeconds, median, note, rate, round } from './measure.ts'
import { resolveConfig } from '../../ts/config/index.ts'
import { trainerOptions } from '../../ts/train/trainer-options.ts'

export interface StepTimes {
  steps: number
  /** Median wall time of a step, as awaited from TypeScript. */
  msPerStep: number
  imagesPerS: number
  /** Images per CPU-second of this process: less sensitive than wall time to other work on the machine. */
  imagesPerCpuS: number
  /** Means reported by the addon (null from an addon that does not report them). */
  dataMs: number | null
  computeMs: number | null
}

export interface StepBench {
  size: number
  batch: number
  device: string
  threads: number
  warmup: { built: StepTimes; prefetched: StepTimes }
  coDivision: { built: StepTimes; prefetched: StepTimes }
  predict: { images: number; batch: number; imagesPerS: number; imagesPerCpuS: number }
}

/** What the PyTorch baseline needs to run the very same step. */
export interface ReferenceBatch {
  dataset: BindingDataset
  indices: Uint32Array
  labels: Int32Array
  codes: Uint8Array
  epoch: number
  numClasses: number
}

export interface StepOptions {
  paths: string[]
  labels: Int32Array
  numClasses: number
  size: number
  batch: number
  steps: number
  device: string
  threads: number
  predictImages: number
  predictBatch: number
  lambda: number
  omega: number
  gamma: number
}

/** 60% clean, 20% ambiguous, 20% noisy, the same in every batch so every step does the same work. */
export function batchCodes(n: number): Uint8Array {
  const pattern = [PARTITION_CLEAN, PARTITION_CLEAN, PARTITION_CLEAN, PARTITION_AMBIGUOUS, PARTITION_NOISY]
  return Uint8Array.from({ length: n }, (_, i) => pattern[i % pattern.length]!)
}

function summarize(batch: number, wall: number[], cpuS: number, results: BindingStepResult[]): StepTimes {
  const mean = (xs: Array<number | undefined>) => (xs.every((x) => typeof x === 'number') ? xs.reduce<number>((a, b) => a + b!, 0) / xs.length : null)
  const ms = median(wall)
  const dataMs = mean(results.map((r) => r.dataMs))
  const computeMs = mean(results.map((r) => r.computeMs))
  return {
    steps: wall.length,
    msPerStep: round(ms),
    imagesPerS: round((batch * 1000) / ms, 2),
    imagesPerCpuS: round((batch * wall.length) / cpuS, 2),
    dataMs: dataMs === null ? null : round(dataMs, 2),
    computeMs: computeMs === null ? null : round(computeMs),
  }
}

export async function benchSteps(binding: Binding, o: StepOptions): Promise<{ result: StepBench; reference: ReferenceBatch; trainer: BindingTrainer }> {
  const ds = callNativeSync(() => binding.Dataset.fromPaths(o.paths, { imageSize: o.size, seed: 1, cacheBytes: 2 ** 31, threads: 0 }))
  await callNative(() => ds.scan())
  const trainer = callNativeSync(() =>
    binding.Trainer.create(trainerOptions(resolveConfig({ runtime: { device: o.device, threads: o.threads } }), o.numClasses)),
  )
  const n = o.paths.length
  const batchAt = (k: number) => {
    const indices = Uint32Array.from({ length: o.batch }, (_, i) => (k * o.batch + i) % n)
    return { indices, labels: Int32Array.from(indices, (i) => o.labels[i]!) }
  }
  const codes = batchCodes(o.batch)
  const WARMUP_EPOCH = 1
  const CODIV_EPOCH = 11

  const run = async (kind: 'warmup' | 'co-division', prefetch: boolean): Promise<StepTimes> => {
    note(`steps: ${kind} at ${o.size} px, batch ${o.batch}, ${o.steps} timed steps, views ${prefetch ? 'built ahead' : 'built in the step'}`)
    const wall: number[] = []
    const results: BindingStepResult[] = []
    let cpuS = 0
    // Step 0 is untimed: allocator and kernel warm-up (and, with prefetch, it prepares step 1).
    for (let k = 0; k <= o.steps; k++) {
      const { indices, labels } = batchAt(k)
      const next = prefetch ? batchAt(k + 1).indices : null
      const batch = { epoch: kind === 'warmup' ? WARMUP_EPOCH : CODIV_EPOCH, indices, labels, codes }
      const t0 = performance.now()
      const cpu0 = cpuSeconds()
      const r =
        kind === 'warmup'
          ? await callNative(() => trainer.warmupStep(ds, batch, next && { indices: next }))
          : await callNative(() => trainer.coDivisionStep(ds, batch, { lambda: o.lambda, omega: o.omega, gamma: o.gamma, detachWeak: false, joint: false, batchShare: false }, next && { indices: next, codes }))
      if (k === 0) continue
      wall.push(performance.now() - t0)
      cpuS += cpuSeconds() - cpu0
      results.push(r)
    }
    return summarize(o.batch, wall, cpuS, results)
  }
  const warmup = { built: await run('warmup', false), prefetched: await run('warmup', true) }
  const coDivision = { built: await run('co-division', false), prefetched: await run('co-division', true) }

  note(`steps: prediction pass over ${o.predictImages} images at ${o.size} px, batch ${o.predictBatch}`)
  const all = Uint32Array.from({ length: Math.min(n, o.predictImages) }, (_, i) => i)
  const p = await rate(all.length, 0, (i) => callNative(() => trainer.predict(ds, all, 'test', 1 + i, o.predictBatch, false)))
  const result: StepBench = {
    size: o.size,
    batch: o.batch,
    device: trainer.device,
    threads: binding.runtimeInfo().threads,
    warmup,
    coDivision,
    predict: { images: all.length, batch: o.predictBatch, imagesPerS: round(p.perS, 2), imagesPerCpuS: round(p.perCpuS, 2) },
  }
  const first = batchAt(0)
  return {
    result,
    reference: { dataset: ds, indices: first.indices, labels: first.labels, codes, epoch: CODIV_EPOCH, numClasses: o.numClasses },
    trainer,
  }
}
