/** The human-readable tables of `npm run bench`, and the summary figures both the tables and the JSON carry. */
import type { BatchEpochs } from './batch-epochs.ts'
import type { EpochRun } from './epoch.ts'
import type { Machine } from './machine.ts'
import { round } from './measure.ts'
import type { PipelineRow } from './pipeline.ts'
import type { ReferenceResult } from './reference.ts'
import type { StepBench, StepTimes } from './steps.ts'

export interface Report {
  machine: Machine
  data: string
  settings: { device: string; quick: boolean; steps: { size: number } }
  pipeline: PipelineRow[] | null
  steps: StepBench | null
  reference: ReferenceResult | { error: string } | null
  batches: BatchEpochs[] | null
  codivide: { samples: number; ms: number } | null
  epochs: EpochRun | null
  memory: EpochRun | { error: string } | null
  peakRssMiB: number
  peakGpuMemoryMiB: number | null
}

/** man-fer against the baseline over whole epochs at one image size (time or memory over the baseline's; below 1 = better). */
export interface EpochsVsReference {
  batch: number
  warmupEpochVsReference: number | null
  predictVsReference: number | null
  coDivisionEpochVsReference: number | null
  peakRssVsReference: number | null
  peakRssMiB: { manFer: number | null; reference: number | null }
  loadAverage: { manFer: number; reference: number }
}

export interface Summary {
  /** man-fer's time per step over the baseline's (1 = as fast; below 1 = faster). */
  warmupVsReference: number | null
  coDivisionVsReference: number | null
  /** The same with man-fer's tensor work only (views excluded), comparable to the baseline's pre-built tensors. */
  warmupComputeVsReference: number | null
  coDivisionComputeVsReference: number | null
  /** Training views the pipeline builds per second (all threads, step size) over the co-division step's images per second. */
  pipelineOverCoDivisionStep: number | null
  /** Largest share of an epoch's wall time spent outside the addon. */
  typescriptShareMax: number | null
  decodesPerImage: number | null
  /** RSS after epoch 10 over RSS after epoch 2 of the 12-epoch run. */
  rssEpoch10OverEpoch2: number | null
  /** Whole epochs at the training batch size, by image size ("112", "224"). */
  epochs: Record<string, EpochsVsReference>
}

function epochsVsReference(b: BatchEpochs): EpochsVsReference {
  const m = 'error' in b.manFer ? null : b.manFer
  const r = 'error' in b.reference ? null : b.reference
  return {
    batch: b.batch,
    warmupEpochVsReference: ratio(m?.warmupEpochS, r?.warmupEpochS),
    predictVsReference: ratio(m?.predictS, r?.predictS),
    coDivisionEpochVsReference: ratio(m?.coDivisionEpochS, r?.coDivisionEpochS),
    peakRssVsReference: ratio(m?.peakRssMiB, r?.peakRssMiB),
    peakRssMiB: { manFer: m?.peakRssMiB ?? null, reference: r?.peakRssMiB ?? null },
    loadAverage: b.loadAverage,
  }
}

const line = (cells: Array<string | number | null>, widths: number[]) =>
  cells.map((c, i) => String(c ?? '-')[i === 0 ? 'padEnd' : 'padStart'](widths[i]!)).join(' ')

function table(title: string, head: string[], rows: Array<Array<string | number | null>>): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '-').length)))
  process.stdout.write(`\n${title}\n${line(head, widths)}\n`)
  for (const r of rows) process.stdout.write(`${line(r, widths)}\n`)
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a == null || b == null || b === 0 ? null : round(a / b, 2)
}

function stepRows(name: string, t: { built: StepTimes; prefetched: StepTimes }) {
  return [
    [`${name}, views built in the step`, t.built.msPerStep, t.built.imagesPerS, t.built.imagesPerCpuS, t.built.dataMs, t.built.computeMs],
    [`${name}, views built ahead`, t.prefetched.msPerStep, t.prefetched.imagesPerS, t.prefetched.imagesPerCpuS, t.prefetched.dataMs, t.prefetched.computeMs],
  ]
}

export function summarize(r: Report): Summary {
  const ref = r.reference !== null && !('error' in r.reference) ? r.reference : null
  const s = r.steps
  let pipelineOver: number | null = null
  if (r.pipeline !== null && s !== null) {
    const at = (c: string) =>
      r.pipeline!.filter((p) => p.case === c && p.size === s.size).sort((a, b) => b.threads - a.threads)[0]?.imagesPerS
    const weak = at('weak view')
    const strong = at('strong view')
    // A co-division sample needs a weak view, and a strong one when noisy (a fifth of the benchmark's batches).
    if (weak && strong) pipelineOver = round(1 / (1 / weak + 0.2 / strong) / s.coDivision.prefetched.imagesPerS, 1)
  }
  const memory = r.memory !== null && !('error' in r.memory) ? r.memory : null
  return {
    warmupVsReference: ratio(s?.warmup.prefetched.msPerStep, ref?.warmupMsPerStep),
    coDivisionVsReference: ratio(s?.coDivision.prefetched.msPerStep, ref?.coDivisionMsPerStep),
    warmupComputeVsReference: ratio(s?.warmup.prefetched.computeMs, ref?.warmupMsPerStep),
    coDivisionComputeVsReference: ratio(s?.coDivision.prefetched.computeMs, ref?.coDivisionMsPerStep),
    pipelineOverCoDivisionStep: pipelineOver,
    typescriptShareMax: r.epochs === null ? null : round(Math.max(...r.epochs.epochs.map((e) => e.typescriptShare)), 4),
    decodesPerImage: r.epochs?.decodesPerImage ?? null,
    rssEpoch10OverEpoch2: memory !== null && memory.rssMiB.length >= 10 ? round(memory.rssMiB[9]! / memory.rssMiB[1]!, 3) : null,
    epochs: Object.fromEntries((r.batches ?? []).map((b) => [String(b.size), epochsVsReference(b)])),
  }
}

export function printReport(r: Report): Summary {
  const m = r.machine
  const out = (s: string) => process.stdout.write(`${s}\n`)
  out(`man-fer benchmark${r.settings.quick ? ' (--quick)' : ''}`)
  out(`machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, load average ${m.loadAverage} at start, ${m.platform}`)
  out(`device:  ${r.settings.device}${m.gpu ? ` (${m.gpu})` : ''}; torch ${m.torch}, ${m.torchThreads} intra-op threads; node ${m.node}`)
  out(`data:    ${r.data}`)
  if (r.pipeline !== null) {
    table(
      'image pipeline (Dataset.views, batches of views in fresh arrays)',
      ['case', 'size', 'threads', 'images/s', 'images/cpu-s'],
      r.pipeline.map((p) => [p.case, p.size, p.threads, p.imagesPerS, p.imagesPerCpuS]),
    )
  }
  if (r.steps !== null) {
    const s = r.steps
    table(
      `training steps at ${s.size} px, batch ${s.batch}, on ${s.device} (median of ${s.warmup.built.steps}; data and compute as the addon reports them)`,
      ['step', 'ms/step', 'images/s', 'images/cpu-s', 'data ms', 'compute ms'],
      [...stepRows('warm-up', s.warmup), ...stepRows('co-division', s.coDivision)],
    )
    out(`prediction pass: ${s.predict.imagesPerS} images/s (${s.predict.images} images, batch ${s.predict.batch})`)
  }
  if (r.reference !== null) {
    if ('error' in r.reference) out(`\nPyTorch baseline: not run: ${r.reference.error}`)
    else {
      const ref = r.reference
      const s = r.steps!
      table(
        `PyTorch baseline on the same views (torch ${ref.torch}, ${ref.threads} threads, ${ref.python})`,
        ['step', 'baseline ms', 'man-fer ms', 'man-fer/baseline', 'compute/baseline'],
        [
          ['warm-up', ref.warmupMsPerStep, s.warmup.prefetched.msPerStep, ratio(s.warmup.prefetched.msPerStep, ref.warmupMsPerStep), ratio(s.warmup.prefetched.computeMs, ref.warmupMsPerStep)],
          ['co-division', ref.coDivisionMsPerStep, s.coDivision.prefetched.msPerStep, ratio(s.coDivision.prefetched.msPerStep, ref.coDivisionMsPerStep), ratio(s.coDivision.prefetched.computeMs, ref.coDivisionMsPerStep)],
        ],
      )
    }
  }
  for (const b of r.batches ?? []) {
    const side = (name: string, x: BatchEpochs['manFer'] | BatchEpochs['reference']) =>
      'error' in x
        ? [name, 'failed', '-', '-', '-', '-', '-', '-', x.error.split('\n')[0]!]
        : [name, x.warmupEpochS, x.warmupImagesPerS, x.predictS, x.predictImagesPerS, x.coDivisionEpochS, x.coDivisionImagesPerS, x.peakRssMiB, '']
    const v = epochsVsReference(b)
    const precision = 'error' in b.manFer ? '' : `, ${b.manFer.precision}, allocator ${b.manFer.allocator}`
    table(
      `epochs at ${b.size} px, batch ${b.batch} (${b.images} images, predictions in batches of ${b.evalBatch}${precision}; median of ${b.repeats}; load average ${b.loadAverage.manFer} / ${b.loadAverage.reference})`,
      ['side', 'warm-up s', 'images/s', 'predict s', 'images/s', 'co-division s', 'images/s', 'peak RSS MiB', ''],
      [
        side('man-fer', b.manFer),
        side('PyTorch baseline', b.reference),
        ['man-fer/baseline', v.warmupEpochVsReference, '', v.predictVsReference, '', v.coDivisionEpochVsReference, '', v.peakRssVsReference, ''],
      ],
    )
  }
  if (r.codivide !== null) out(`\ncoDivide of ${r.codivide.samples.toLocaleString('en')} samples: ${r.codivide.ms} ms`)
  if (r.epochs !== null) {
    const e = r.epochs
    table(
      `epochs of a real train() run (${e.settings.train} images at ${e.settings.imageSize} px, batch ${e.settings.batchSize}); ms`,
      ['epoch', 'wall', 'data wait', 'compute', 'step calls', 'predict', 'checkpoint', 'release', 'typescript', 'ts share'],
      e.epochs.map((x) => [`${x.epoch} ${x.phase}`, x.wallMs, x.dataMs, x.computeMs, x.stepOverheadMs, x.predictMs, x.checkpointMs, x.releaseMs, x.typescriptMs, `${round(x.typescriptShare * 100, 2)}%`]),
    )
    out(`decodes per image over the run: ${e.decodesPerImage ?? 'not reported'}`)
  }
  if (r.memory !== null) {
    if ('error' in r.memory) out(`\nmemory run failed: ${r.memory.error}`)
    else {
      const mem = r.memory
      out(`\nmemory over ${mem.rssMiB.length} epochs (${mem.settings.train} images at ${mem.settings.imageSize} px)${mem.gcBeforeReading ? ', after a full GC' : ''}, MiB:`)
      out(`  RSS:     ${mem.rssMiB.join(' ')}`)
      out(`  JS heap: ${mem.heapMiB.join(' ')}`)
    }
  }
  const summary = summarize(r)
  out(`\npeak RSS ${r.peakRssMiB} MiB${r.peakGpuMemoryMiB !== null ? `; peak GPU memory ${r.peakGpuMemoryMiB} MiB (nvidia-smi)` : ''}`)
  out(`summary: ${JSON.stringify(summary)}`)
  return summary
}
