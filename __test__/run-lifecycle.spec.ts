/**
 * A directory becomes a run with its first checkpoint: what a failed start
 * left is cleared by the next start, a real run is never touched, and other
 * files in the directory are never removed.
 */
import test from 'ava'
import { promises as fs } from 'node:fs'
import path from 'node:path'

import { ManError } from '../ts/errors.ts'
import { isStrayTemp, openForStart, removeStrayTemps, runDirState, undoFailedStart } from '../ts/train/run-lifecycle.ts'
import { readTree } from './helpers/cli.ts'
import { tempDir } from './helpers/orch.ts'

async function write(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true })
    await fs.writeFile(path.join(root, rel), text)
  }
}

const HALF_MADE = {
  'config.json': '{}',
  'run.json': '{}',
  'metrics.jsonl': '{"event":"start"}\n',
  'noise.json': '{}',
  'partitions/names.json': '{}',
  'checkpoints/.last.safetensors.tmp-4242': 'half a checkpoint',
}

test('temp files of interrupted writes are recognised, and nothing else', (t) => {
  for (const name of ['.last.safetensors.tmp-4242', '.config.json.123-0a1b2c3d.tmp']) {
    t.true(isStrayTemp(name), name)
  }
  for (const name of ['last.safetensors', 'notes.tmp.txt', 'config.json', 'run.lock', 'my.tmp', '.hidden-notes']) t.false(isStrayTemp(name), name)
})

test('a half-made run is cleared by the next start; files that are not the run stay', async (t) => {
  const dir = await tempDir(t)
  await write(dir, { ...HALF_MADE, 'notes.txt': 'mine' })
  t.is(await runDirState(dir), 'half-made')
  const opened = await openForStart(dir)
  t.false(opened.created)
  t.deepEqual(
    opened.cleared.map((f) => path.relative(dir, f)).sort(),
    ['checkpoints/.last.safetensors.tmp-4242', 'config.json', 'metrics.jsonl', 'noise.json', 'partitions/names.json', 'run.json'],
  )
  t.deepEqual((await fs.readdir(dir)).sort(), ['notes.txt', 'run.lock'])
  await opened.lock.release()
  t.is(await runDirState(dir), 'empty')
})

test('a directory holding a checkpoint is refused and left exactly as it was', async (t) => {
  const dir = await tempDir(t)
  await write(dir, { ...HALF_MADE, 'checkpoints/last.safetensors': 'weights' })
  const before = await readTree(dir)
  const err = await t.throwsAsync(openForStart(dir), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_RUN_DIR')
  t.regex(err!.message, /already holds a run: resume it/)
  t.deepEqual(await readTree(dir), before, 'not a byte changed, the lock released')
})

test('undoing a failed start removes what it wrote, and the directory when it made it', async (t) => {
  const root = await tempDir(t)
  const fresh = path.join(root, 'fresh')
  const opened = await openForStart(fresh)
  t.true(opened.created)
  await write(fresh, { 'config.json': '{}', 'run.json': '{}', 'partitions/names.json': '{}' })
  await fs.mkdir(path.join(fresh, 'checkpoints'))
  await undoFailedStart(fresh, opened)
  t.deepEqual(await fs.readdir(root), [])

  const existing = path.join(root, 'existing')
  await write(existing, { 'notes.txt': 'mine' })
  const again = await openForStart(existing)
  await write(existing, { 'config.json': '{}', 'metrics.jsonl': '' })
  await undoFailedStart(existing, again)
  t.deepEqual(await fs.readdir(existing), ['notes.txt'])
})

test('stray temp files are removed from the run, checkpoints and partitions folders only', async (t) => {
  const dir = await tempDir(t)
  await write(dir, {
    '.config.json.1.2.tmp': '',
    'checkpoints/.best.safetensors.tmp-9': '',
    'partitions/.epoch-002.json.5-abcdef01.tmp': '',
    'checkpoints/last.safetensors': 'keep',
    'other/.x.tmp': 'not ours to judge',
  })
  const removed = await removeStrayTemps(dir)
  t.is(removed.length, 3)
  t.deepEqual(await fs.readdir(path.join(dir, 'checkpoints')), ['last.safetensors'])
  t.deepEqual(await fs.readdir(path.join(dir, 'other')), ['.x.tmp'])
})
