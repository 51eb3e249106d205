/**
 * The CLI end to end on the real addon: a tiny synthetic set, `train --json`,
 * then `predict` and `eval` on the trained run, and Ctrl-C then `--resume`.
 * Needs the built addon and libtorch (npm run build:native; MAN_LIBTORCH).
 */
import { existsSync, promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import test from 'ava'

import { synthesize } from '../../ts/synth/index.ts'
import { cli, jsonLines } from '../helpers/cli.ts'
import { makeTempDir } from '../helpers/temp-dir.ts'

const TINY = ['--epochs', '2', '--warmup', '1', '--batch-size', '8', '--image-size', '32', '--device', 'cpu', '--runtime.eval-batch-size', '16']

let root = ''
let dir = ''

test.before(async () => {
  const info = await cli(['info', '--json'])
  if (info.code !== 0) {
    throw new Error(`the native addon is not usable (npm run build:native; set MAN_LIBTORCH): ${info.stderr.trim()}`)
  }
  dir = makeTempDir('man-fer-cli-real-')
  root = path.join(dir, 'data')
  await synthesize({ out: root, train: 24, test: 12, size: 32, noiseRate: 0.25, seed: 11 })
})

test.after.always(async () => {
  if (dir !== '') await fs.rm(dir, { recursive: true, force: true })
})

test.serial('train --json, then predict and eval on the run', async (t) => {
  const runDir = path.join(dir, 'run')
  const run = await cli(['train', '--data', root, ...TINY, '--out', runDir, '--json'])
  t.is(run.code, 0, run.stderr)
  const lines = jsonLines(run.stdout)
  t.is(lines[0]!.type, 'start')
  const epochs = lines.filter((l) => l.type === 'epoch')
  t.deepEqual(
    epochs.map((e) => [e.epoch, e.phase]),
    [
      [1, 'warmup'],
      [2, 'co-division'],
    ],
  )
  t.is(lines.filter((l) => l.type === 'batch').length, 2 * 3)
  const result = lines.at(-1)!
  t.is(result.type, 'result')
  t.like(result, { runDir, epochsCompleted: 2, stopped: false })
  const best = result.best as { epoch: number; testAccuracy: number }
  t.true(best.testAccuracy >= 0 && best.testAccuracy <= 1)
  t.truthy(result.noiseDetection, 'the synthetic truth makes noise detection known')
  t.true(existsSync(path.join(runDir, 'checkpoints', 'best.safetensors')))
  t.true(existsSync(path.join(runDir, 'checkpoints', 'last.safetensors')))
  const partition = epochs[1]!.partition as { clean: number; ambiguous: number; noisy: number }
  t.is((result.suspicious as { count: number }).count, partition.noisy)

  const images = ['test_00001', 'test_00002'].map((n) => path.join(root, 'Image', 'aligned', `${n}_aligned.jpg`))
  const predict = await cli(['predict', '--model', runDir, ...images, '--json'])
  t.is(predict.code, 0, predict.stderr)
  const predictions = jsonLines(predict.stdout)
  t.is(predictions.length, 2)
  predictions.forEach((p, i) => {
    t.is(p.type, 'prediction')
    t.is(p.image, images[i])
    const probs = p.probabilities as Record<string, number>
    t.is(Object.keys(probs).length, 7)
    t.true(Math.abs(Object.values(probs).reduce((a, b) => a + b, 0) - 1) < 1e-4)
    const argmax = Object.entries(probs).sort((a, b) => b[1] - a[1])[0]![0]
    t.is(p.label, argmax)
  })

  const evaluation = await cli(['eval', '--model', runDir, '--data', root, '--json'])
  t.is(evaluation.code, 0, evaluation.stderr)
  const evalLines = jsonLines(evaluation.stdout)
  t.is(evalLines.length, 1)
  const e = evalLines[0]!
  t.like(e, { type: 'evaluation', size: 12 })
  const confusion = e.confusion as number[][]
  t.is(confusion.flat().reduce((a, b) => a + b, 0), 12)
  // The best checkpoint scores on the test split what training measured at its epoch.
  t.is(e.accuracy, best.testAccuracy)

  const human = await cli(['eval', '--model', runDir, '--data', root])
  t.is(human.code, 0, human.stderr)
  t.regex(human.stdout, /^accuracy: +[\d.]+% \(12 test images\)\nmean class accuracy: +[\d.]+%/)
  t.regex(human.stdout, /true \\ predicted/)
})

test.serial('Ctrl-C during training exits 130 with the resume command; --resume completes the run', async (t) => {
  const runDir = path.join(dir, 'interrupted')
  let sent = false
  const run = await cli(['train', '--data', root, ...TINY, '--epochs', '3', '--out', runDir, '--json'], {
    onLine: (line, child) => {
      if (!sent && line.includes('"type":"batch"')) {
        sent = true
        child.kill('SIGINT')
      }
    },
  })
  t.is(run.code, 130, run.stderr)
  const lines = jsonLines(run.stdout)
  t.like(lines.at(-1), { type: 'interrupted', runDir, resume: `man-fer train --resume ${runDir}` })
  t.true(existsSync(path.join(runDir, 'checkpoints', 'last.safetensors')))
  const done = lines.filter((l) => l.type === 'batch').length

  const resumed = await cli(['train', '--resume', runDir, '--json'])
  t.is(resumed.code, 0, resumed.stderr)
  const after = jsonLines(resumed.stdout)
  t.is(done + after.filter((l) => l.type === 'batch').length, 3 * 3, 'every batch runs exactly once')
  t.like(after.at(-1), { type: 'result', epochsCompleted: 3 })
})
