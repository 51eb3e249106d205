/**
 * man-fer's side of batch-epochs.ts, in a process of its own: the warm-up
 * epoch, the prediction pass and the co-division epoch as train() runs them
 * (each step announcing the next batch), repeated. Prints one JSON line.
 *
 *   node --import=tsx scripts/bench/batch-epochs-child.ts '<BatchEpochOptions as JSON>'
 */
import { resolveConfig } from '../../ts/config/index.ts'
import { callNative, callNativeSync } from '../../ts/errors.ts'
import { getBinding } from '../../ts/native/index.ts'
import { trainerOptions } from '../../ts/train/trainer-options.ts'
import { sideTimes, VIEW_EPOCH, type BatchEpochOptions } from './batch-epochs.ts'
import { batchCodes } from './steps.ts'

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2]!) as Omit<BatchEpochOptions, 'labels'> & { labels: number[] }
  const binding = getBinding()
  if (o.threads > 0) callNativeSync(() => binding.setThreads(o.threads))
  const ds = callNativeSync(() =>
    binding.Dataset.fromPaths(o.paths, { imageSize: o.size, seed: 1, cacheBytes: 2 ** 31, threads: 0 }),
  )
  await callNative(() => ds.scan())
  const config = resolveConfig({
    runtime: { device: o.device, threads: o.threads, precision: o.precision as 'auto', backward: o.backward as 'once', allocator: o.allocator as 'lean' },
  })
  const trainer = callNativeSync(() => binding.Trainer.create(trainerOptions(config, o.numClasses)))
  const n = o.paths.length
  const labels = Int32Array.from(o.labels)
  const codes = batchCodes(n)
  const all = Uint32Array.from({ length: n }, (_, i) => i)
  const batches = Math.ceil(n / o.batch)
  const at = (b: number) => ({ start: b * o.batch, end: Math.min(n, (b + 1) * o.batch) })

  const epoch = async (coDivision: boolean) => {
    const t0 = performance.now()
    for (let b = 0; b < batches; b++) {
      const { start, end } = at(b)
      const next = b + 1 < batches ? at(b + 1) : null
      const indices = all.subarray(start, end)
      const y = labels.subarray(start, end)
      const nextIndices = next === null ? undefined : all.subarray(next.start, next.end)
      if (coDivision) {
        const c = codes.subarray(start, end)
        const nextCodes = next === null ? undefined : codes.subarray(next.start, next.end)
        const weights = { lambda: o.lambda, omega: o.omega, gamma: o.gamma, detachWeak: false, joint: false, batchShare: false }
        const ahead = nextIndices === undefined ? undefined : { indices: nextIndices, codes: nextCodes }
        await callNative(() => trainer.coDivisionStep(ds, { epoch: VIEW_EPOCH, indices, labels: y, codes: c }, weights, ahead))
      } else {
        const ahead = nextIndices === undefined ? undefined : { indices: nextIndices }
        await callNative(() => trainer.warmupStep(ds, { epoch: VIEW_EPOCH, indices, labels: y }, ahead))
      }
    }
    return (performance.now() - t0) / 1000
  }
  const predict = async () => {
    const t0 = performance.now()
    await callNative(() => trainer.predict(ds, all, 'test', VIEW_EPOCH, o.evalBatch, false))
    return (performance.now() - t0) / 1000
  }

  const runs = { warmupEpochS: [] as number[], predictS: [] as number[], coDivisionEpochS: [] as number[] }
  for (let r = 0; r < o.repeats; r++) {
    runs.warmupEpochS.push(await epoch(false))
    runs.predictS.push(await predict())
    runs.coDivisionEpochS.push(await epoch(true))
    // As train() does at the end of every epoch.
    callNativeSync(() => binding.releaseMemory())
  }
  const peak = process.resourceUsage().maxRSS / 1024
  const info = binding.runtimeInfo()
  const precision = o.precision === 'auto' ? info.cpuAutoPrecision : o.precision
  process.stdout.write(`${JSON.stringify({ ...sideTimes(n, runs, peak), precision, allocator: o.allocator, threads: info.threads })}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`batch-epochs-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
