/**
 * npm run bench: how fast man-fer is where it runs (CPU here, CUDA where
 * present), next to the PyTorch baseline on the same batches. Prints a table
 * and, last, one JSON line. Progress goes to stderr.
 *
 *   npm run bench -- [--quick] [--data DIR] [--device auto|cpu|cuda] [--threads N]
 *                    [--size PX] [--batch N] [--steps N] [--skip a,b] [--out FILE]
 *                    [--precision auto|fp32|bf16] [--backward per-network|once] [--allocator lean|fast]
 *                    [--epoch-sizes PX,PX] [--epoch-images N] [--repeats N]
 * sections: pipeline, steps, reference, batches (epochs at batch 64 next to the baseline), codivide, epochs, memory
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'

import { callNativeSync } from '../ts/errors.ts'
import { getBinding } from '../ts/native/index.ts'
import { coDivide } from '../ts/train/co-division.ts'
import { benchBatchEpochs, type BatchEpochs } from './bench/batch-epochs.ts'
import { benchData } from './bench/data.ts'
import { benchEpochs, type EpochRun } from './bench/epoch.ts'
import { gpuName, GpuMemoryWatch } from './bench/gpu.ts'
import { describeMachine } from './bench/machine.ts'
import { median, note, round } from './bench/measure.ts'
import { benchPipeline, type PipelineRow } from './bench/pipeline.ts'
import { benchReference, type ReferenceResult } from './bench/reference.ts'
import { printReport } from './bench/report.ts'
import { benchSteps, type StepBench } from './bench/steps.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SECTIONS = ['pipeline', 'steps', 'reference', 'batches', 'codivide', 'epochs', 'memory'] as const
type Section = (typeof SECTIONS)[number]

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    data: { type: 'string' },
    device: { type: 'string', default: 'auto' },
    threads: { type: 'string', default: '0' },
    precision: { type: 'string', default: 'auto' },
    backward: { type: 'string', default: 'per-network' },
    allocator: { type: 'string', default: 'lean' },
    'epoch-sizes': { type: 'string' },
    'epoch-images': { type: 'string' },
    repeats: { type: 'string' },
    size: { type: 'string' },
    batch: { type: 'string' },
    steps: { type: 'string' },
    skip: { type: 'string', default: '' },
    only: { type: 'string' },
    out: { type: 'string' },
  },
})

function intArg(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new Error(`Invalid value for option --${name}: ${v} (a non-negative integer)`)
  return n
}

function sectionsToRun(): Set<Section> {
  const parse = (list: string) => list.split(',').map((s) => s.trim()).filter((s) => s !== '')
  for (const s of [...parse(args.skip!), ...parse(args.only ?? '')]) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`Invalid section '${s}': one of ${SECTIONS.join(', ')}`)
  }
  if (args.only !== undefined) return new Set(parse(args.only) as Section[])
  const skip = new Set(parse(args.skip!))
  return new Set(SECTIONS.filter((s) => !skip.has(s)))
}

/** coDivide over a million samples: the per-epoch TypeScript work of co-division. */
function benchCoDivide(n: number): { samples: number; ms: number } {
  let s = 12345
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16) % 7
  const p1 = Int32Array.from({ length: n }, rnd)
  const p2 = Int32Array.from({ length: n }, rnd)
  const y = Int32Array.from({ length: n }, rnd)
  const out = new Uint8Array(n)
  const times: number[] = []
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now()
    coDivide(p1, p2, y, out)
    if (i >= 2) times.push(performance.now() - t0)
  }
  return { samples: n, ms: round(median(times), 2) }
}

/** The memory run in a process of its own, so earlier sections do not shape its RSS. */
async function memoryInChild(): Promise<EpochRun> {
  const childArgs = [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), '--only', 'memory', '--device', args.device!]
  if (args.quick) childArgs.push('--quick')
  if (args.data !== undefined) childArgs.push('--data', args.data)
  note('memory: a 12-epoch run in a child process')
  const { stdout } = await promisify(execFile)(process.execPath, childArgs, { maxBuffer: 1 << 24, timeout: 60 * 60_000 })
  return (JSON.parse(stdout.trim().split('\n').at(-1)!) as { memory: EpochRun }).memory
}

async function main(): Promise<void> {
  const sections = sectionsToRun()
  const quick = args.quick!
  const binding = getBinding()
  const info = binding.runtimeInfo()
  const cuda = args.device === 'cuda' || args.device!.startsWith('cuda:') || (args.device === 'auto' && info.cudaAvailable)
  if (args.device!.startsWith('cuda') && !info.cudaAvailable) {
    throw new Error(`--device ${args.device} was asked for but libtorch sees no CUDA device (torch ${info.torchVersion})`)
  }
  const device = args.device === 'auto' ? (cuda ? 'cuda' : 'cpu') : args.device!
  const threads = intArg('threads', args.threads, 0)
  if (!['auto', 'fp32', 'bf16'].includes(args.precision!)) throw new Error(`Invalid value for option --precision: ${args.precision} (auto, fp32 or bf16)`)
  if (!['per-network', 'once'].includes(args.backward!)) throw new Error(`Invalid value for option --backward: ${args.backward} (per-network or once)`)
  if (!['lean', 'fast'].includes(args.allocator!)) throw new Error(`Invalid value for option --allocator: ${args.allocator} (lean or fast)`)
  const epochSizes = (args['epoch-sizes'] ?? (cuda ? '224' : quick ? '112' : '112,224')).split(',').map((v) => intArg('epoch-sizes', v, 0))
  if (threads > 0) callNativeSync(() => binding.setThreads(threads))
  const cores = describeMachine(binding, null).cores
  const stepSize = intArg('size', args.size, 224)
  const settings = {
    quick,
    device,
    data: { train: quick ? 256 : 512, test: quick ? 64 : 128 },
    // Whole epochs at the batch size training uses, next to the baseline: several batches, medians of repetitions.
    batches: {
      sizes: epochSizes,
      batch: cuda ? 128 : 64,
      evalBatch: cuda ? 256 : 64,
      images: intArg('epoch-images', args['epoch-images'], cuda ? 512 : quick ? 128 : 256),
      repeats: intArg('repeats', args.repeats, quick ? 1 : 3),
      precision: args.precision!,
      backward: args.backward!,
      allocator: args.allocator!,
    },
    pipeline: { sizes: [112, 224], threads: [...new Set([1, cores])], batch: quick ? 32 : 64, minMs: quick ? 300 : 1000 },
    steps: {
      size: stepSize,
      batch: intArg('batch', args.batch, cuda ? 128 : quick ? 4 : 8),
      steps: intArg('steps', args.steps, cuda ? (quick ? 5 : 20) : quick ? 2 : 3),
      predictImages: cuda ? 1024 : quick ? 8 : 32,
      predictBatch: cuda ? 512 : 32,
    },
    epochs: cuda
      ? { train: 512, test: 128, imageSize: 224, batchSize: 128, epochs: 3, warmup: 2 }
      : quick
        ? { train: 128, test: 32, imageSize: 32, batchSize: 32, epochs: 3, warmup: 2 }
        : { train: 192, test: 64, imageSize: 48, batchSize: 32, epochs: 3, warmup: 2 },
    // One warm-up epoch, so that epoch 2 (the reference point of the RSS ratio) already runs every code path of
    // the steady state (co-division, strong views, prediction passes): the ratio then measures growth, not a phase change.
    memory: { train: quick ? 96 : 200, test: quick ? 32 : 48, imageSize: 32, batchSize: 32, epochs: 12, warmup: 1 },
    weights: { lambda: 0.5, omega: 0.6, gamma: 1 },
  }
  const data = await benchData(ROOT, args.data, settings.data.train, settings.data.test)
  const numClasses = data.index.classNames.length

  if (args.only === 'memory') {
    const memory = await benchEpochs(binding, { root: ROOT, index: data.index, device, ...settings.memory })
    process.stdout.write(`${JSON.stringify({ memory })}\n`)
    return
  }

  const gpu = cuda ? gpuName() : null
  const machine = describeMachine(binding, gpu)
  const watch = cuda ? new GpuMemoryWatch().start() : null
  let pipeline: PipelineRow[] | null = null
  let steps: StepBench | null = null
  let reference: ReferenceResult | { error: string } | null = null
  let batches: BatchEpochs[] | null = null
  let codivide: { samples: number; ms: number } | null = null
  let epochs: EpochRun | null = null
  let memory: EpochRun | { error: string } | null = null

  if (sections.has('steps')) {
    const s = await benchSteps(binding, {
      paths: data.index.train.paths,
      labels: data.index.train.labels,
      numClasses,
      device,
      threads,
      ...settings.steps,
      ...settings.weights,
    })
    steps = s.result
    if (sections.has('reference')) {
      try {
        reference = await benchReference(s.reference, {
          root: ROOT,
          steps: settings.steps.steps,
          threads: steps.threads,
          size: settings.steps.size,
          device: steps.device,
          ...settings.weights,
        })
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        note(`reference: FAILED: ${message}`)
        reference = { error: message }
      }
    }
  }
  if (sections.has('batches')) {
    batches = []
    const { sizes, images, ...b } = settings.batches
    if (data.index.train.paths.length < images) throw new Error(`--epoch-images ${images}: the data has ${data.index.train.paths.length} training images`)
    for (const size of sizes) {
      batches.push(
        await benchBatchEpochs(binding, ROOT, {
          paths: data.index.train.paths.slice(0, images),
          labels: data.index.train.labels.slice(0, images),
          numClasses,
          size,
          threads: threads > 0 ? threads : binding.runtimeInfo().threads,
          device,
          ...b,
          ...settings.weights,
        }),
      )
    }
  }
  // After the steps and the baseline: with the pipeline section run first,
  // the baseline's Python process ran 2-4x slower on a 2-core machine (not understood).
  if (sections.has('pipeline')) pipeline = await benchPipeline(binding, { paths: data.index.train.paths, ...settings.pipeline })
  if (sections.has('codivide')) codivide = benchCoDivide(1_000_000)
  if (sections.has('epochs')) epochs = await benchEpochs(binding, { root: ROOT, index: data.index, device, ...settings.epochs })
  const gpuPeakMiB = watch?.stop() ?? null
  if (sections.has('memory')) {
    try {
      memory = await memoryInChild()
    } catch (err) {
      memory = { error: err instanceof Error ? err.message : String(err) }
    }
  }

  const report = {
    bench: 'man-fer',
    time: new Date().toISOString(),
    machine,
    data: data.source,
    settings,
    pipeline,
    steps,
    reference,
    batches,
    codivide,
    epochs,
    memory,
    peakRssMiB: round(process.resourceUsage().maxRSS / 1024),
    peakGpuMemoryMiB: gpuPeakMiB,
  }
  const summary = printReport(report)
  const line = JSON.stringify({ ...report, summary })
  process.stdout.write(`${line}\n`)
  if (args.out !== undefined) await writeFile(args.out, `${line}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
