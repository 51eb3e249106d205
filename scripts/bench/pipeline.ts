/**
 * Image pipeline throughput through the binding's Dataset.views: decoding
 * from disk, then views from the decoded cache, at 112 and 224 px, on one
 * thread and on all. `views` returns a fresh Float32Array per call (a copy
 * the training steps do not make: they build views into reused buffers), so
 * these figures are a lower bound of what a step gets.
 */
import { callNative, callNativeSync } from '../../ts/errors.ts'
import type { Binding, BindingDataset, BindingView } from '../../ts/native/binding.ts'
import { note, rate, round, type Rate } from './measure.ts'

export interface PipelineRow {
  case: string
  size: number | null
  threads: number
  imagesPerS: number
  imagesPerCpuS: number
}

export interface PipelineOptions {
  paths: string[]
  sizes: number[]
  threads: number[]
  batch: number
  minMs: number
}

function row(name: string, size: number | null, threads: number, r: Rate): PipelineRow {
  return { case: name, size, threads, imagesPerS: round(r.perS), imagesPerCpuS: round(r.perCpuS) }
}

export async function benchPipeline(binding: Binding, o: PipelineOptions): Promise<PipelineRow[]> {
  const rows: PipelineRow[] = []
  const open = (size: number, threads: number, cacheBytes: number): BindingDataset =>
    callNativeSync(() => binding.Dataset.fromPaths(o.paths, { imageSize: size, seed: 1, cacheBytes, threads }))
  const n = o.paths.length
  const batches: Uint32Array[] = []
  for (let start = 0; start + o.batch <= n; start += o.batch) batches.push(Uint32Array.from({ length: o.batch }, (_, i) => start + i))
  if (batches.length === 0) throw new Error(`the pipeline benchmark needs at least ${o.batch} images, the dataset has ${n}`)

  for (const threads of o.threads) {
    note(`pipeline: decoding ${n} images from disk, ${threads} thread(s)`)
    const ds = open(112, threads, 0)
    const r = await rate(n, o.minMs, async () => {
      const failures = await callNative(() => ds.scan())
      if (failures.length > 0) throw new Error(`cannot decode ${failures[0]!.path}: ${failures[0]!.message}`)
    })
    rows.push(row('decode (disk, no cache)', null, threads, r))
  }
  for (const size of o.sizes) {
    for (const threads of o.threads) {
      note(`pipeline: views at ${size} px, ${threads} thread(s)`)
      const views = (ds: BindingDataset, view: BindingView) => (i: number) => callNative(() => ds.views(batches[i % batches.length]!, view, 1 + i))
      const uncached = open(size, threads, 0)
      rows.push(row('test view, decoding each image', size, threads, await rate(o.batch, o.minMs, views(uncached, 'test'))))
      const cached = open(size, threads, 2 ** 31)
      await callNative(() => cached.scan())
      rows.push(row('test view (decoded-cache hit)', size, threads, await rate(o.batch, o.minMs, views(cached, 'test'))))
      rows.push(row('weak view', size, threads, await rate(o.batch, o.minMs, views(cached, 'weak'))))
      rows.push(row('strong view', size, threads, await rate(o.batch, o.minMs, views(cached, 'strong'))))
    }
  }
  return rows
}
