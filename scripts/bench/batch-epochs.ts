/**
 * Epochs at real batch sizes, side by side with the PyTorch baseline: a
 * warm-up epoch, a co-division prediction pass and a co-division epoch over
 * the same images, at one image size and batch, repeated; the medians and
 * each side's peak RSS. man-fer runs in a child process of its own
 * (batch-epochs-child.ts) so that its peak RSS is that of the training loop,
 * not of the benchmark around it; the baseline (bench/reference_epochs.py)
 * then trains on the very views man-fer trained on, written to safetensors.
 */
import { execFile } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

import { callNative, callNativeSync } from '../../ts/errors.ts'
import type { Binding } from '../../ts/native/binding.ts'
import { PARTITION_NOISY } from '../../ts/native/binding.ts'
import { median, note, round } from './measure.ts'
import { referencePython } from './reference.ts'
import { encodeSafetensors } from '../../ts/util/safetensors.ts'
import { batchCodes } from './steps.ts'

/** The epoch number of every view: warm-up and co-division train on the same weak views, so one file serves both. */
export const VIEW_EPOCH = 1

export interface BatchEpochOptions {
  paths: string[]
  labels: Int32Array
  numClasses: number
  size: number
  batch: number
  evalBatch: number
  repeats: number
  threads: number
  device: string
  precision: string
  /** runtime.backward of man-fer's side. */
  backward: string
  /** runtime.allocator of man-fer's side. */
  allocator: string
  lambda: number
  omega: number
  gamma: number
}

/** Seconds of each repetition, their medians, and the process's peak RSS. */
export interface SideTimes {
  runs: { warmupEpochS: number[]; predictS: number[]; coDivisionEpochS: number[] }
  warmupEpochS: number
  predictS: number
  coDivisionEpochS: number
  warmupImagesPerS: number
  predictImagesPerS: number
  coDivisionImagesPerS: number
  peakRssMiB: number
}

export interface BatchEpochs {
  size: number
  batch: number
  evalBatch: number
  images: number
  repeats: number
  /** 1-minute load average before man-fer's runs and before the baseline's. */
  loadAverage: { manFer: number; reference: number }
  manFer: (SideTimes & { precision: string; allocator: string; threads: number }) | { error: string }
  reference: (SideTimes & { python: string; torch: string; threads: number }) | { error: string }
}

export function sideTimes(images: number, runs: SideTimes['runs'], peakRssMiB: number): SideTimes {
  const w = median(runs.warmupEpochS)
  const p = median(runs.predictS)
  const c = median(runs.coDivisionEpochS)
  return {
    runs: {
      warmupEpochS: runs.warmupEpochS.map((x) => round(x, 2)),
      predictS: runs.predictS.map((x) => round(x, 2)),
      coDivisionEpochS: runs.coDivisionEpochS.map((x) => round(x, 2)),
    },
    warmupEpochS: round(w, 2),
    predictS: round(p, 2),
    coDivisionEpochS: round(c, 2),
    warmupImagesPerS: round(images / w, 2),
    predictImagesPerS: round(images / p, 2),
    coDivisionImagesPerS: round(images / c, 2),
    peakRssMiB: round(peakRssMiB),
  }
}

const load1 = () => round(os.loadavg()[0]!, 2)
const message = (err: unknown) => (err instanceof Error ? err.message : String(err))

async function manFerSide(o: BatchEpochOptions): Promise<BatchEpochs['manFer']> {
  // batch-epochs-child.ts under tsx, .js where the benchmark was compiled (the gpu-check bundle).
  const child = fileURLToPath(new URL(`./batch-epochs-child${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url))
  const request = { ...o, labels: Array.from(o.labels) }
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, child, JSON.stringify(request)], {
    maxBuffer: 1 << 24,
    timeout: 2 * 60 * 60_000,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as BatchEpochs['manFer']
}

async function referenceSide(binding: Binding, root: string, o: BatchEpochOptions): Promise<BatchEpochs['reference']> {
  const n = o.paths.length
  const dir = path.join(root, '.cache', 'bench-reference')
  await mkdir(dir, { recursive: true })
  const views = path.join(dir, `epochs-${o.size}px.safetensors`)
  const request = path.join(dir, `epochs-${o.size}px.json`)
  const codes = batchCodes(n)
  const ds = callNativeSync(() =>
    binding.Dataset.fromPaths(o.paths, { imageSize: o.size, seed: 1, cacheBytes: 2 ** 31, threads: 0 }),
  )
  await callNative(() => ds.scan())
  const all = Uint32Array.from({ length: n }, (_, i) => i)
  const noisy = all.filter((i) => codes[i] === PARTITION_NOISY)
  const s = o.size
  // A scratch file of the benchmark's own, removed below: no atomic write needed.
  await writeFile(
    views,
    encodeSafetensors({
      weak: { shape: [n, 3, s, s], data: await callNative(() => ds.views(all, 'weak', VIEW_EPOCH)) },
      strong: { shape: [noisy.length, 3, s, s], data: await callNative(() => ds.views(noisy, 'strong', VIEW_EPOCH)) },
      test: { shape: [n, 3, s, s], data: await callNative(() => ds.views(all, 'test', VIEW_EPOCH)) },
    }),
  )
  await writeFile(
    request,
    JSON.stringify({
      views,
      labels: Array.from(o.labels),
      codes: Array.from(codes),
      batch: o.batch,
      evalBatch: o.evalBatch,
      repeats: o.repeats,
      threads: o.threads,
      numClasses: o.numClasses,
      lambda: o.lambda,
      omega: o.omega,
      gamma: o.gamma,
      device: o.device.startsWith('cuda') ? o.device : 'cpu',
    }),
  )
  const python = referencePython(root)
  try {
    const { stdout } = await promisify(execFile)(python, [path.join(root, 'bench', 'reference_epochs.py'), request], {
      maxBuffer: 1 << 20,
      timeout: 2 * 60 * 60_000,
    })
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      runs: SideTimes['runs']
      peakRssMiB: number
      torch: string
      threads: number
    }
    return { ...sideTimes(n, out.runs, out.peakRssMiB), python, torch: out.torch, threads: out.threads }
  } finally {
    await rm(views, { force: true })
  }
}

export async function benchBatchEpochs(binding: Binding, root: string, o: BatchEpochOptions): Promise<BatchEpochs> {
  const n = o.paths.length
  const what = `${n} images at ${o.size} px, batch ${o.batch}, ${o.repeats} repetition(s)`
  const manFerLoad = load1()
  note(`epochs: man-fer, ${what} (load average ${manFerLoad})`)
  const manFer = await manFerSide(o).catch((err: unknown) => ({ error: message(err) }))
  const referenceLoad = load1()
  note(`epochs: PyTorch baseline, ${what} (load average ${referenceLoad})`)
  const reference = await referenceSide(binding, root, o).catch((err: unknown) => ({ error: message(err) }))
  return {
    size: o.size,
    batch: o.batch,
    evalBatch: o.evalBatch,
    images: n,
    repeats: o.repeats,
    loadAverage: { manFer: manFerLoad, reference: referenceLoad },
    manFer,
    reference,
  }
}
