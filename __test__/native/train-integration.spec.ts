/**
 * The real addon end to end on tiny data: train() writes its run directory,
 * loadModel().predict() gives probabilities, and a run killed with SIGKILL
 * and resumed ends exactly where an uninterrupted run ends (CPU, same seed).
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

import { loadModel, readPartition, synthesize, train, type ConfigInput } from '../../ts/index.ts'
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.ts'

const root = makeTempDir('man-fer-integration-')
const data = join(root, 'data')
test.before(async () => {
  await synthesize({ out: data, train: 64, test: 32, size: 32, noiseRate: 0.2, seed: 7 })
})
test.after.always(() => removeTempDir(root))

const tiny = (out: string): ConfigInput => ({
  data: { path: data },
  train: { epochs: 3, warmup: 1, batchSize: 16, imageSize: 32, seed: 3 },
  runtime: { device: 'cpu', threads: 1, dataThreads: 1, evalBatchSize: 64 },
  out,
})

test.serial('a tiny run completes, writes its run directory, and its model predicts', async (t) => {
  const out = join(root, 'run')
  const result = await train(tiny(out))
  t.is(result.epochsCompleted, 3)
  t.is(result.history.length, 3)
  t.deepEqual(result.history.map((e) => e.phase), ['warmup', 'co-division', 'co-division'])
  for (const e of result.history) t.true(Number.isFinite(e.loss.total) && e.test.accuracy >= 0)

  for (const f of ['config.json', 'metrics.jsonl', 'checkpoints/last.safetensors', 'checkpoints/best.safetensors']) {
    t.true(existsSync(join(out, f)), f)
  }
  const epochLines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as { event: string }).filter((e) => e.event === 'epoch')
  t.is(epochLines.length, 3)
  const partition = await readPartition(out, 3)
  t.is(partition.codes.length, 64)
  t.is(partition.counts.clean + partition.counts.ambiguous + partition.counts.noisy, 64)
  t.true(readdirSync(join(out, 'partitions')).some((f) => f.startsWith('epoch-002')))

  const model = await loadModel(out)
  const images = readdirSync(join(data, 'Image', 'aligned')).filter((f) => f.startsWith('test_')).slice(0, 3)
  const predictions = await model.predict([
    join(data, 'Image', 'aligned', images[0]!),
    readFileSync(join(data, 'Image', 'aligned', images[1]!)),
    join(data, 'Image', 'aligned', images[2]!),
  ])
  t.is(predictions.length, 3)
  for (const p of predictions) {
    const sum = Array.from(p.probabilities).reduce((a, b) => a + b, 0)
    t.true(Math.abs(sum - 1) < 1e-5, `probabilities sum to ${sum}`)
    t.is(p.probabilities.length, 7)
    t.true(typeof p.label === 'string' && p.label.length > 0)
  }
})

function runChild(args: string[], killAt?: { epoch: number; batch: number }): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', join(import.meta.dirname, '..', 'helpers', 'train-child.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let stdout = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk
      if (killAt && stdout.includes(`batch ${killAt.epoch} ${killAt.batch}\n`)) child.kill('SIGKILL')
    })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout }))
  })
}

const finalLine = (stdout: string) => JSON.parse(stdout.split('\n').find((l) => l.startsWith('result '))!.slice(7))

test.serial('killed with SIGKILL mid-epoch and resumed, a run ends with the same metrics as an uninterrupted one', async (t) => {
  const straight = await runChild([JSON.stringify(tiny(join(root, 'straight')))])
  t.is(straight.code, 0)

  const killedDir = join(root, 'killed')
  const killed = await runChild([JSON.stringify(tiny(killedDir))], { epoch: 3, batch: 2 })
  t.is(killed.signal, 'SIGKILL')
  t.false(killed.stdout.includes('result '))
  t.true(existsSync(join(killedDir, 'checkpoints', 'last.safetensors')))

  const resumed = await runChild([JSON.stringify(tiny(killedDir)), '--resume', killedDir])
  t.is(resumed.code, 0)
  // The resumed process replays epoch 3 from the end-of-epoch-2 checkpoint.
  t.true(resumed.stdout.startsWith('batch 3 1\n'), resumed.stdout.slice(0, 40))
  t.deepEqual(finalLine(resumed.stdout), finalLine(straight.stdout))
})
