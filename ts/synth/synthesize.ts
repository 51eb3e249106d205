/**
 * A synthetic FER benchmark in the RAF-DB layout: procedurally drawn faces of
 * the seven RAF-DB expressions, some deliberately ambiguous (a blend of two
 * expressions), with symmetric label noise on the training labels, and a
 * truth.json that records what is really in each image.
 *
 * Writes `EmoLabel/list_patition_label.txt` (the given, possibly noisy,
 * labels), `Image/aligned/{train,test}_NNNNN_aligned.jpg` and `truth.json`.
 * The same options give byte-identical files. The label file and truth.json
 * are written atomically after every image, so a set whose writing was cut
 * short has no label file and fails to load instead of loading half.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ConfigError, ManError } from '../errors.ts'
import { writeFileAtomic } from '../data/atomic-write.ts'
import { injectNoise } from '../data/noise.ts'
import { mixSeed, Rng } from '../util/prng.ts'
import { serializeTruth, SYNTHETIC_GENERATOR, TRUTH_FILE, type TruthImage } from '../data/truth.ts'
import { RAFDB_PARTITION_FILE } from '../data/rafdb.ts'
import { drawExpression, EXPRESSION_NAMES, mixExpressions } from './expressions.ts'
import { drawFace } from './face.ts'
import { encodeJpeg } from './jpeg.ts'
import { drawLook } from './look.ts'

export interface SynthesizeOptions {
  /** Output folder; created, and must be empty if it exists. */
  out: string
  /** Training images (default 3000). */
  train?: number
  /** Test images (default 1000). */
  test?: number
  /** Image width and height in pixels (default 64; RAF-DB's aligned faces are 100). */
  size?: number
  /** Fraction of training labels flipped to a different class (default 0). */
  noiseRate?: number
  /** Fraction of images, in each split, that blend two expressions (default 0.1). */
  ambiguousRate?: number
  /** Default 0. */
  seed?: number
  /** JPEG quality (default 90). */
  quality?: number
}

export interface SynthesisSummary {
  out: string
  classNames: string[]
  train: number
  test: number
  /** Training labels changed by the noise. */
  flipped: number
  /** Blended images per split. */
  blended: { train: number; test: number }
}

const WRITES_IN_FLIGHT = 16

function resolveOptions(o: SynthesizeOptions): Required<SynthesizeOptions> {
  const r = {
    out: o.out,
    train: o.train ?? 3000,
    test: o.test ?? 1000,
    size: o.size ?? 64,
    noiseRate: o.noiseRate ?? 0,
    ambiguousRate: o.ambiguousRate ?? 0.1,
    seed: o.seed ?? 0,
    quality: o.quality ?? 90,
  }
  const issues: string[] = []
  const int = (name: keyof typeof r, lo: number, hi: number) => {
    const v = r[name] as number
    if (!Number.isInteger(v) || v < lo || v > hi) issues.push(`Invalid value for option ${name}: ${v} (an integer in [${lo}, ${hi}])`)
  }
  if (typeof r.out !== 'string' || r.out === '') issues.push('Invalid value for option out: give the output folder')
  int('train', 1, 10_000_000)
  int('test', 1, 10_000_000)
  int('size', 16, 1024)
  int('seed', 0, 0xffffffff)
  int('quality', 1, 100)
  if (!(r.noiseRate >= 0 && r.noiseRate < 1)) issues.push(`Invalid value for option noiseRate: ${r.noiseRate} (in [0, 1))`)
  if (!(r.ambiguousRate >= 0 && r.ambiguousRate <= 1)) {
    issues.push(`Invalid value for option ambiguousRate: ${r.ambiguousRate} (in [0, 1])`)
  }
  if (issues.length > 0) throw new ConfigError(issues)
  return r
}

async function prepareOut(out: string): Promise<void> {
  const existing = await readdir(out).catch(() => null)
  if (existing && existing.length > 0) {
    throw new ManError('ERR_MAN_CONFIG', `Invalid value for option out: ${out} exists and is not empty`)
  }
  await mkdir(join(out, 'EmoLabel'), { recursive: true })
  await mkdir(join(out, 'Image', 'aligned'), { recursive: true })
}

/** Each class equally often (±1), in a seeded random order. */
function balancedLabels(n: number, rng: Rng): Int32Array {
  return rng.shuffle(Int32Array.from({ length: n }, (_, i) => i % EXPRESSION_NAMES.length))
}

interface SplitPlan {
  split: 'train' | 'test'
  trueLabels: Int32Array
  givenLabels: Int32Array
  blended: Uint8Array
}

function planSplit(split: 'train' | 'test', n: number, o: Required<SynthesizeOptions>): SplitPlan {
  const code = split === 'train' ? 1 : 2
  const trueLabels = balancedLabels(n, new Rng(mixSeed(o.seed, code, 0x636c73)))
  const blended = new Uint8Array(n)
  for (const i of new Rng(mixSeed(o.seed, code, 0x616d62)).sample(n, Math.round(o.ambiguousRate * n))) blended[i] = 1
  const givenLabels =
    split === 'train' ? injectNoise(trueLabels, EXPRESSION_NAMES.length, o.noiseRate, o.seed).labels : Int32Array.from(trueLabels)
  return { split, trueLabels, givenLabels, blended }
}

function imageName(split: string, i: number): string {
  return `${split}_${String(i + 1).padStart(5, '0')}`
}

/** Draws and encodes one image; everything random about it comes from (seed, split, index). */
function renderImage(plan: SplitPlan, i: number, o: Required<SynthesizeOptions>): { jpeg: Buffer; truth: Omit<TruthImage, 'path'> } {
  const rng = new Rng(mixSeed(o.seed, plan.split === 'train' ? 1 : 2, i))
  const cls = plan.trueLabels[i]!
  const look = drawLook(rng, o.size)
  let expression = drawExpression(rng, cls)
  let blendClasses: number[] = []
  if (plan.blended[i]) {
    const other = (cls + 1 + rng.int(EXPRESSION_NAMES.length - 1)) % EXPRESSION_NAMES.length
    // Under half-way, so the true label stays the dominant expression.
    expression = mixExpressions(expression, drawExpression(rng, other), rng.range(0.3, 0.47))
    blendClasses = [cls, other]
  }
  const rgba = drawFace(o.size, look, expression, rng)
  return {
    jpeg: encodeJpeg({ width: o.size, height: o.size, data: rgba }, o.quality),
    truth: { split: plan.split, trueLabel: cls, givenLabel: plan.givenLabels[i]!, blended: blendClasses.length > 0, blendClasses },
  }
}

export async function synthesize(options: SynthesizeOptions): Promise<SynthesisSummary> {
  const o = resolveOptions(options)
  const out = resolve(o.out)
  await prepareOut(out)

  const plans = [planSplit('train', o.train, o), planSplit('test', o.test, o)]
  const images: TruthImage[] = []
  const lines: string[] = []
  const inFlight = new Set<Promise<void>>()
  let failure: ManError | undefined
  for (const plan of plans) {
    for (let i = 0; i < plan.trueLabels.length; i++) {
      const name = imageName(plan.split, i)
      const path = `Image/aligned/${name}_aligned.jpg`
      const { jpeg, truth } = renderImage(plan, i, o)
      images.push({ path, ...truth })
      lines.push(`${name}.jpg ${truth.givenLabel + 1}`)
      const file = join(out, path)
      const write: Promise<void> = writeFile(file, jpeg)
        .catch((err: Error) => {
          failure ??= new ManError('ERR_MAN_IO', `cannot write ${file}: ${err.message}`, { cause: err })
        })
        .finally(() => inFlight.delete(write))
      inFlight.add(write)
      if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight)
      if (failure) break
    }
    if (failure) break
  }
  await Promise.all(inFlight)
  if (failure) throw failure

  await writeFileAtomic(join(out, RAFDB_PARTITION_FILE), `${lines.join('\n')}\n`)
  const { out: _out, ...settings } = o
  await writeFileAtomic(
    join(out, TRUTH_FILE),
    serializeTruth({ format: 'man-fer-truth', version: 1, generator: SYNTHETIC_GENERATOR, settings, classNames: [...EXPRESSION_NAMES], images }),
  )
  const [train, test] = plans as [SplitPlan, SplitPlan]
  return {
    out,
    classNames: [...EXPRESSION_NAMES],
    train: o.train,
    test: o.test,
    flipped: train.trueLabels.filter((y, i) => y !== train.givenLabels[i]).length,
    blended: { train: train.blended.reduce((a, b) => a + b, 0), test: test.blended.reduce((a, b) => a + b, 0) },
  }
}
