/**
 * Faults around a run directory, on the real CLI in child processes: a
 * diverging run, two writers, SIGTERM, a truncated checkpoint, a kill during
 * the first checkpoint write. Each ends with a stated exit code and message,
 * bounded memory, a directory the next command can use, and an earlier good
 * run left exactly as it was.
 */
import anyTest, { type ExecutionContext, type TestFn } from 'ava'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { assertSafetensorsComplete } from '../../../ts/util/safetensors.ts'
import { runCli, summary, type ChildRun } from './child.ts'
import { fingerprint, goodRun, PEAK_MODEL_MB, TINY, type GoodRun } from './fixtures.ts'

const test = anyTest as TestFn<{ root: string; good: GoodRun }>

test.before(async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'man-fer-rel-runs-'))
  t.context = { root, good: await goodRun(root) }
})

test.after.always(async (t) => {
  if (t.context.root) await fs.rm(t.context.root, { recursive: true, force: true })
})

type Ctx = ExecutionContext<{ root: string; good: GoodRun }>

async function assertBounded(t: Ctx, r: ChildRun) {
  t.false(r.timedOut, summary(r))
  t.log(`exit ${r.code ?? r.signal}, peak ${r.peakMB?.toFixed(0)} MiB, ${(r.ms / 1000).toFixed(1)} s`)
  if (r.peakMB !== null) t.true(r.peakMB < PEAK_MODEL_MB, `peak ${r.peakMB.toFixed(0)} MiB, bound ${PEAK_MODEL_MB} MiB`)
  t.deepEqual(await fingerprint(t.context.good.runDir), t.context.good.print, 'the good run is intact')
}

async function files(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch(() => [])
}

async function events(runDir: string): Promise<Array<Record<string, unknown>>> {
  const text = await fs.readFile(path.join(runDir, 'metrics.jsonl'), 'utf8')
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
}

function epochsOf(evs: Array<Record<string, unknown>>): number[] {
  return evs.filter((e) => e.event === 'epoch').map((e) => e.epoch as number)
}

test.serial('a diverging run (lr 1e30) stops with ERR_MAN_DIVERGED naming epoch and batch, and keeps its last good checkpoint', async (t) => {
  const out = path.join(t.context.root, 'diverged')
  const r = await runCli(['train', '--data', t.context.good.data, ...TINY, '--lr', '1e30', '--out', out, '--json'])
  t.is(r.code, 1, summary(r))
  t.regex(r.stderr, /man-fer: training diverged: the loss is (NaN|Infinity|-Infinity) at epoch 1, batch \d+/)
  const error = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).at(-1)!
  t.is(error.code, 'ERR_MAN_DIVERGED')
  await assertBounded(t, r)
  t.deepEqual((await files(path.join(out, 'checkpoints'))).sort(), ['last.safetensors'], 'no best, no temp file')
  t.true((await events(out)).some((e) => e.event === 'diverged'))
  // What is left is the last good state: it predicts finite probabilities.
  const image = path.join(t.context.good.data, 'test', 'bright', '0.jpg')
  const p = await runCli(['predict', '--model', out, image, '--json'])
  t.is(p.code, 0, summary(p))
  const probabilities = Object.values(JSON.parse(p.stdout.trim()).probabilities as Record<string, number>)
  t.true(probabilities.every((x) => Number.isFinite(x)), JSON.stringify(probabilities))
})

test.serial('two writers: the second train and the second --resume fail with one line naming the holder; SIGTERM saves and exits 143', async (t) => {
  const out = path.join(t.context.root, 'writers')
  const args = ['train', '--data', t.context.good.data, ...TINY, '--epochs', '3', '--out', out, '--json']
  let second: Promise<ChildRun> | undefined
  let batches = 0
  const first = await runCli(args, {
    onLine: (line, child) => {
      if (!line.includes('"type":"batch"')) return
      batches++
      // The first holds the lock once it trains: the second start must be refused.
      if (batches === 1) {
        second = runCli(args).then((r) => {
          child.kill('SIGTERM')
          return r
        })
      }
    },
  })
  const refused = await second!
  t.is(refused.code, 1, summary(refused))
  t.regex(refused.stderr, new RegExp(`man-fer: ${out} is in use by process \\d+ \\(train, since [^)]+\\): wait for it to finish or stop it`))
  t.deepEqual(refused.stderr.trim().split('\n').slice(1).length, 1, 'after the "training in" line, one line: the error')
  await assertBounded(t, refused)

  t.is(first.code, 143, summary(first))
  t.regex(first.stderr, /SIGTERM: stopping at the next batch boundary/)
  t.like(JSON.parse(first.stdout.trim().split('\n').at(-1)!), { type: 'interrupted', signal: 'SIGTERM' })
  await assertBounded(t, first)
  t.deepEqual((await files(path.join(out, 'checkpoints'))).filter((n) => n.includes('.tmp')), [], 'no temp file left')
  t.false((await files(out)).includes('run.lock'), 'the lock is released')
  const starts = (await events(out)).filter((e) => e.event === 'start')
  t.is(starts.length, 1, 'only the first command started a run')

  // Two resumes at once: exactly one continues, the other is refused.
  const resume = ['train', '--resume', out, '--json']
  let otherResume: Promise<ChildRun> | undefined
  const one = await runCli(resume, {
    onLine: (line) => {
      if (line.includes('"type":"batch"') && otherResume === undefined) otherResume = runCli(resume)
    },
  })
  const two = await otherResume!
  t.is(one.code, 0, summary(one))
  t.is(two.code, 1, summary(two))
  t.regex(two.stderr, /is in use by process \d+ \(resume, since/)
  await assertBounded(t, one)
  t.deepEqual(epochsOf(await events(out)), [1, 2, 3], 'each epoch line once')
})

test.serial('a truncated checkpoints/last makes --resume fall back to best and say so; last is whole again afterwards', async (t) => {
  const copy = path.join(t.context.root, 'truncated')
  await fs.cp(t.context.good.runDir, copy, { recursive: true })
  const last = path.join(copy, 'checkpoints', 'last.safetensors')
  const size = (await fs.stat(last)).size
  await fs.truncate(last, Math.floor(size / 2))
  const r = await runCli(['train', '--resume', copy])
  t.is(r.code, 0, summary(r))
  t.regex(
    r.stderr,
    /man-fer: warning: checkpoints\/last\.safetensors is unusable \(.*truncated: \d+ bytes, its header describes \d+\): resuming from checkpoints\/best\.safetensors \(epoch 2, batch 1\)/,
  )
  await assertBounded(t, r)
  await t.notThrowsAsync(assertSafetensorsComplete(last))
})

test.serial('a kill during the first checkpoint write leaves a directory the same command simply runs in', async (t) => {
  const out = path.join(t.context.root, 'first-save')
  const args = ['train', '--data', t.context.good.data, ...TINY, '--out', out]
  const checkpoints = path.join(out, 'checkpoints')
  let sawTemp = false
  const killed = await runCli(args, {
    onSpawn: (child) => {
      const poll = setInterval(() => {
        void files(checkpoints).then((names) => {
          if (names.some((n) => n.includes('.tmp')) && !sawTemp) {
            sawTemp = true
            clearInterval(poll)
            child.kill('SIGKILL')
          }
        })
      }, 2)
      child.on('close', () => clearInterval(poll))
    },
  })
  t.is(killed.signal, 'SIGKILL', summary(killed))
  t.true(sawTemp)
  t.false((await files(checkpoints)).includes('last.safetensors'), 'killed before the first checkpoint existed')
  t.true((await files(out)).includes('config.json'), 'a half-made run was left')

  const again = await runCli(args)
  t.is(again.code, 0, summary(again))
  await assertBounded(t, again)
  t.deepEqual((await files(checkpoints)).sort(), ['best.safetensors', 'last.safetensors'])
  t.deepEqual((await events(out)).filter((e) => e.event === 'start').length, 1, 'one start: the half-made one was cleared')
})
