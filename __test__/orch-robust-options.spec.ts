import test, { type ExecutionContext } from 'ava'

import { resolveConfig } from '../ts/config/index.ts'
import { PARTITION_AMBIGUOUS, PARTITION_CLEAN, PARTITION_NOISY } from '../ts/native/binding.ts'
import { setBinding } from '../ts/native/index.ts'
import { boundNoisy, coDivide, KEEP_LABEL, relabelAgreed, stepTargets } from '../ts/train/co-division.ts'
import { readPartition } from '../ts/train/run-dir.ts'
import { lambdaAt } from '../ts/train/schedule.ts'
import { resumeTrain, train } from '../ts/train/train.ts'
import { FakeBinding, type FakeBindingOptions } from './fake-binding.ts'
import { classOfName, makeIndex, tempDir, tinyConfig, withoutTimings } from './helpers/orch.ts'

// One binding is installed process-wide, so these specs run one at a time.
test.afterEach.always(() => setBinding(undefined))

function install(options: FakeBindingOptions = {}): FakeBinding {
  const fake = new FakeBinding({ classOf: classOfName, ...options })
  setBinding(fake)
  return fake
}

test('the paper preset spells out the reference for every option that deviates from it', (t) => {
  const paper = resolveConfig({}, 'paper')
  t.is(paper.man.coDivisionView, 'weak')
  t.is(paper.man.consistencyGradient, 'both')
  t.is(paper.man.subsetPasses, 'separate')
  t.is(paper.man.lambdaRamp, 'run')
  t.is(paper.man.noisyBound, 'none')
  t.is(paper.man.relabel, 'none')
  t.is(paper.man.noisyLoss, 'consistency')
  t.is(paper.train.warmupEnd, 'fixed')
  t.is(paper.train.warmup, 10)
  t.is(paper.runtime.precision, 'fp32')
  t.is(resolveConfig({}).runtime.precision, undefined, "the default is 'auto', applied in trainer-options.ts")
  // A user's own settings still win over the preset.
  t.is(resolveConfig({ man: { consistencyGradient: 'strong' } }, 'paper').man.consistencyGradient, 'strong')
})

test('boundNoisy keeps the noisiest samples noisy and makes the excess, given label most likely first, ambiguous', (t) => {
  const labels = Int32Array.of(0, 1, 2, 0, 1, 2)
  // Both networks wrong on samples 0, 2, 3, 5; right on 1; one right on 4.
  const pred1 = Int32Array.of(1, 1, 0, 2, 1, 0)
  const pred2 = Int32Array.of(2, 1, 1, 1, 0, 1)
  const division = coDivide(pred1, pred2, labels)
  t.deepEqual([division.clean, division.ambiguous, division.noisy], [1, 1, 4])
  // Ensemble probability of the given label: sample 3 highest, then 0, then 5, then 2.
  const probs = new Float32Array(18)
  const given = [0.3, 0.9, 0.05, 0.4, 0.5, 0.1]
  given.forEach((p, i) => {
    probs[i * 3 + labels[i]!] = p
  })
  const bounded = boundNoisy(division, labels, probs, 3, 2)
  t.deepEqual([bounded.clean, bounded.ambiguous, bounded.noisy], [1, 3, 2])
  t.deepEqual(Array.from(bounded.codes), [
    PARTITION_AMBIGUOUS,
    PARTITION_CLEAN,
    PARTITION_NOISY,
    PARTITION_AMBIGUOUS,
    PARTITION_AMBIGUOUS,
    PARTITION_NOISY,
  ])
  // Under the bound nothing changes; a wrong shape is an error naming the sizes.
  t.is(boundNoisy(bounded, labels, probs, 3, 5).noisy, 2)
  t.throws(() => boundNoisy(bounded, labels, probs.subarray(3), 3, 1), { message: /6×3 probabilities \(got 15\)/ })
})

/** Trains a tiny run per option value and checks the flag every co-division step received. */
async function stepFlagFollows(
  t: ExecutionContext,
  man: 'consistencyGradient' | 'subsetPasses' | 'subsetWeighting',
  flag: 'detachWeak' | 'joint' | 'batchShare',
  values: ReadonlyArray<readonly [string, boolean]>) {
  for (const [option, expected] of values) {
    const fake = install()
    const dir = await tempDir(t)
    await train(tinyConfig(dir, { train: { epochs: 3 }, man: { [man]: option } }), { dataset: makeIndex({ train: 12, test: 4 }) })
    const steps = fake.steps.filter((s) => s.kind === 'co-division')
    t.true(steps.length > 0)
    t.true(steps.every((s) => s[flag] === expected), option)
    setBinding(undefined)
  }
}

test.serial("consistencyGradient 'strong' makes every co-division step treat the weak view as a fixed target", (t) =>
  stepFlagFollows(t, 'consistencyGradient', 'detachWeak', [
    ['strong', true],
    ['both', false],
  ]),
)

test.serial("subsetPasses 'joint' asks every co-division step for one pass per network", (t) =>
  stepFlagFollows(t, 'subsetPasses', 'joint', [
    ['joint', true],
    ['separate', false],
  ]),
)

test.serial("subsetWeighting 'batch' asks every co-division step to weigh each subset by its share of the batch", (t) =>
  stepFlagFollows(t, 'subsetWeighting', 'batchShare', [
    ['batch', true],
    ['subset', false],
  ]),
)

test.serial("noisyLoss 'pseudo-label' gives every co-division step the threshold; 'consistency' none", async (t) => {
  for (const [man, expected] of [
    [{ noisyLoss: 'pseudo-label', pseudoThreshold: 0.7 }, 0.7],
    [{ noisyLoss: 'pseudo-label' }, 0.95],
    [{ noisyLoss: 'consistency', pseudoThreshold: 0.7 }, null],
  ] as const) {
    const fake = install()
    const dir = await tempDir(t)
    await train(tinyConfig(dir, { train: { epochs: 3 }, man }), { dataset: makeIndex({ train: 12, test: 4 }) })
    const steps = fake.steps.filter((s) => s.kind === 'co-division')
    t.true(steps.length > 0)
    t.deepEqual([...new Set(steps.map((s) => s.pseudoThreshold))], [expected], JSON.stringify(man))
    setBinding(undefined)
  }
})

test.serial("lambdaRamp 'co-division' starts λ's ramp at the first co-division epoch", async (t) => {
  const fake = install()
  const dir = await tempDir(t)
  await train(tinyConfig(dir, { train: { epochs: 6, warmup: 2 }, man: { lambdaRamp: 'co-division' } }), {
    dataset: makeIndex({ train: 12, test: 4 }),
  })
  for (let epoch = 3; epoch <= 6; epoch++) {
    const lambdas = new Set(fake.steps.filter((s) => s.epoch === epoch).map((s) => s.lambda))
    t.deepEqual([...lambdas], [lambdaAt(epoch - 2, 4)], `epoch ${epoch}`)
  }
  // The reference's ramp, for contrast: λ of epoch 3 of 6.
  t.not(lambdaAt(1, 4), lambdaAt(3, 6))
})

/** Networks that learn for three epochs and then stop improving. */
const learnsThenLevels = (epoch: number): [number, number] => {
  const skill = Math.min(0.9, 0.3 * epoch)
  return [skill, skill]
}

test.serial("warmupEnd 'plateau' ends warm-up once agreement with the given labels stops rising, and records it", async (t) => {
  const fake = install({ skillAt: learnsThenLevels })
  const dir = await tempDir(t)
  const result = await train(
    tinyConfig(dir, { train: { epochs: 8, warmup: 6, warmupEnd: 'plateau', warmupMin: 1, warmupPlateau: 0.1, batchSize: 8 }, man: { coDivisionView: 'weak' } }),
    { dataset: makeIndex({ train: 240, test: 8 }) },
  )
  // Agreement is measured before epochs 2, 3 and 4 (skill 0.6, 0.9, 0.9): flat before epoch 4.
  t.deepEqual(
    result.history.map((h) => h.phase),
    ['warmup', 'warmup', 'warmup', 'co-division', 'co-division', 'co-division', 'co-division', 'co-division'],
  )
  const agreement = result.history.map((h) => h.agreement)
  t.is(agreement[0], null)
  t.true(agreement[1]! > 0.5 && agreement[1]! < 0.75, String(agreement[1]))
  t.true(agreement[2]! > 0.85, String(agreement[2]))
  t.true(Math.abs(agreement[3]! - agreement[2]!) < 0.1)
  t.deepEqual(agreement.slice(4), [null, null, null, null])
  // The pass that decided epoch 4 is also its co-division: one training-set prediction before each of epochs 2-8.
  const trainPasses = fake.calls.filter((c) => c.method === 'predict' && c.detail?.view === 'weak').map((c) => c.detail!.epoch)
  t.deepEqual(trainPasses, [2, 3, 4, 5, 6, 7, 8])
})

test.serial("warmupEnd 'plateau' gives up warming up after train.warmup epochs", async (t) => {
  install({ skillAt: (e) => [0.1 * e, 0.1 * e] })
  const dir = await tempDir(t)
  const result = await train(
    tinyConfig(dir, { train: { epochs: 6, warmup: 3, warmupEnd: 'plateau', warmupMin: 1, warmupPlateau: 0.01, batchSize: 8 } }),
    { dataset: makeIndex({ train: 240, test: 8 }) },
  )
  t.deepEqual(result.history.map((h) => h.phase), ['warmup', 'warmup', 'warmup', 'co-division', 'co-division', 'co-division'])
})

test.serial("a run resumed inside a plateau-decided warm-up epoch decides the next epochs as an uninterrupted run does", async (t) => {
  const config = (out: string) =>
    tinyConfig(out, { train: { epochs: 6, warmup: 5, warmupEnd: 'plateau', warmupMin: 1, warmupPlateau: 0.1, batchSize: 8 } })
  const index = makeIndex({ train: 96, test: 8 })
  install({ skillAt: learnsThenLevels })
  const whole = await train(config(await tempDir(t)), { dataset: index })
  setBinding(undefined)

  install({ skillAt: learnsThenLevels })
  const dir = await tempDir(t)
  const stopped = await train(config(dir), { dataset: index, onBatch: (b) => (b.epoch === 3 && b.batch === 4 ? 'stop' : undefined) })
  t.true(stopped.stopped)
  const resumed = await resumeTrain(dir, { dataset: index })
  t.deepEqual(withoutTimings(resumed.history), withoutTimings(whole.history))
})

test.serial("noisyBound 'first' keeps later co-divisions from holding more noisy samples than the first", async (t) => {
  // Networks that get worse: left alone, the noisy subset would grow every epoch.
  const fake = install({ skillAt: (e) => [Math.max(0.05, 0.9 - 0.2 * e), Math.max(0.05, 0.85 - 0.2 * e)] })
  const dir = await tempDir(t)
  const index = makeIndex({ train: 120, test: 8 })
  const result = await train(tinyConfig(dir, { train: { epochs: 5, warmup: 1, batchSize: 8 }, man: { noisyBound: 'first', coDivisionView: 'weak' } }), {
    dataset: index,
  })
  const noisy = result.history.filter((h) => h.partition !== null).map((h) => h.partition!.noisy)
  t.is(noisy.length, 4)
  t.true(noisy.every((n) => n <= noisy[0]!), noisy.join(','))
  // Unbounded, the same networks do put more samples in the noisy subset.
  const unbounded = fake.calls
    .filter((c) => c.method === 'predict' && c.detail?.view === 'weak')
    .map((c) => {
      const p1 = c.detail!.pred1 as number[]
      const p2 = c.detail!.pred2 as number[]
      const labels = index.train.labels
      return p1.filter((v, i) => v !== labels[i] && p2[i] !== labels[i]).length
    })
  t.true(unbounded.at(-1)! > noisy[0]!, `${unbounded.join(',')} against ${noisy[0]}`)
  // The bound needs the ensemble's probabilities.
  t.true(fake.calls.filter((c) => c.method === 'predict' && c.detail?.view === 'weak').every((c) => c.detail!.withProbs === true))
})

test('relabelAgreed relabels exactly the noisy samples both networks put in one class; stepTargets trains them as clean', (t) => {
  const labels = Int32Array.of(0, 1, 2, 0, 1)
  const pred1 = Int32Array.of(1, 1, 0, 2, 2)
  const pred2 = Int32Array.of(1, 1, 1, 2, 1)
  const { codes } = coDivide(pred1, pred2, labels)
  t.deepEqual(Array.from(codes), [PARTITION_NOISY, PARTITION_CLEAN, PARTITION_NOISY, PARTITION_NOISY, PARTITION_AMBIGUOUS])
  const relabels = relabelAgreed(codes, pred1, pred2)
  // Sample 2 is noisy but the networks disagree (0 against 1): it stays noisy.
  t.deepEqual(Array.from(relabels), [1, KEEP_LABEL, KEEP_LABEL, 2, KEEP_LABEL])
  const targets = stepTargets(labels, codes, relabels)
  t.deepEqual(Array.from(targets.labels), [1, 1, 2, 2, 1])
  t.deepEqual(Array.from(targets.codes), [PARTITION_CLEAN, PARTITION_CLEAN, PARTITION_NOISY, PARTITION_CLEAN, PARTITION_AMBIGUOUS])
  // The inputs are left as they were; without relabels the targets are the inputs.
  t.deepEqual(Array.from(labels), [0, 1, 2, 0, 1])
  t.is(stepTargets(labels, codes, null).labels, labels)
})

test.serial("relabel 'agreed' trains a co-division epoch's agreed noisy samples as clean samples of the agreed class, and the partition file keeps them noisy", async (t) => {
  const index = makeIndex({ train: 48, test: 8 })
  const config = (out: string, relabel: 'none' | 'agreed') =>
    tinyConfig(out, { train: { epochs: 2, warmup: 1, batchSize: 8 }, man: { relabel } })
  const runs = []
  for (const relabel of ['none', 'agreed'] as const) {
    const fake = install({ skill: [0.5, 0.5] })
    const dir = await tempDir(t)
    await train(config(dir, relabel), { dataset: index })
    runs.push({ steps: fake.steps.filter((s) => s.epoch === 2), partition: await readPartition(dir, 2) })
    setBinding(undefined)
  }
  const [plain, relabelled] = runs as [(typeof runs)[0], (typeof runs)[0]]
  // The first co-division comes from the same warm-up, so both runs divide alike.
  t.deepEqual(Array.from(relabelled.partition.codes), Array.from(plain.partition.codes))
  t.is(plain.partition.relabels, null)
  const relabels = relabelled.partition.relabels!
  const changed = Array.from(relabels).filter((l) => l !== KEEP_LABEL).length
  t.true(changed > 0 && changed < plain.partition.counts.noisy, `${changed} of ${plain.partition.counts.noisy} noisy`)
  // Step by step, the runs differ exactly at relabelled samples: noisy with the given label against clean with a new one.
  let differing = 0
  t.is(relabelled.steps.length, plain.steps.length)
  plain.steps.forEach((step, k) => {
    const other = relabelled.steps[k]!
    t.deepEqual(other.indices, step.indices)
    step.indices.forEach((_, i) => {
      if (other.codes![i] === step.codes![i]) return t.is(other.labels[i], step.labels[i])
      differing++
      t.is(step.codes![i], PARTITION_NOISY)
      t.is(other.codes![i], PARTITION_CLEAN)
      t.not(other.labels[i], step.labels[i])
    })
  })
  t.is(differing, changed)
})

test.serial("a run resumed inside a relabelled co-division epoch trains it as an uninterrupted run does", async (t) => {
  const index = makeIndex({ train: 48, test: 8 })
  const config = (out: string) => tinyConfig(out, { train: { epochs: 3, warmup: 1, batchSize: 8 }, man: { relabel: 'agreed' } })
  const stepsOf = (fake: FakeBinding) => fake.steps.filter((s) => s.epoch === 2).map((s) => [s.indices, s.labels, s.codes])
  const whole = install({ skill: [0.5, 0.5] })
  await train(config(await tempDir(t)), { dataset: index })
  const expected = stepsOf(whole)
  setBinding(undefined)

  const first = install({ skill: [0.5, 0.5] })
  const dir = await tempDir(t)
  const stopped = await train(config(dir), { dataset: index, onBatch: (b) => (b.epoch === 2 && b.batch === 3 ? 'stop' : undefined) })
  t.true(stopped.stopped)
  const before = stepsOf(first)
  setBinding(undefined)
  const second = install({ skill: [0.5, 0.5] })
  await resumeTrain(dir, { dataset: index })
  t.deepEqual([...before, ...stepsOf(second)], expected)
})
