/**
 * Hostile inputs, each built here, fed to the real CLI in a child process:
 * every one ends with exit 1 and one message naming the file, option or
 * index, costs a bounded amount of memory and time, and leaves an earlier
 * good run exactly as it was.
 */
import anyTest, { type ExecutionContext, type TestFn } from 'ava'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { mkfifo, nanWeights, pixelBomb, sparseFile, zipBomb } from './bad-inputs.ts'
import { runCli, runScript, summary, type ChildRun, ROOT } from './child.ts'
import { fingerprint, folderDataset, goodRun, PEAK_MODEL_MB, PEAK_REFUSING_MB, TINY, type GoodRun } from './fixtures.ts'

const test = anyTest as TestFn<{ root: string; good: GoodRun }>

test.before(async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'man-fer-rel-inputs-'))
  t.context = { root, good: await goodRun(root) }
})

test.after.always(async (t) => {
  if (t.context.root) await fs.rm(t.context.root, { recursive: true, force: true })
})

/** A fresh folder for one case, under the suite's root. */
async function caseDir(t: ExecutionContext<{ root: string }>, name: string): Promise<string> {
  const dir = path.join(t.context.root, name)
  await fs.mkdir(dir, { recursive: true })
  return dir
}

/** A failure the user can act on: exit 1, the pattern in the message, bounded memory, the good run untouched. */
async function assertRefused(t: ExecutionContext<{ good: GoodRun }>, r: ChildRun, message: RegExp, peakMB = PEAK_REFUSING_MB) {
  t.is(r.code, 1, summary(r))
  t.false(r.timedOut, summary(r))
  t.log(`exit ${r.code ?? r.signal}, peak ${r.peakMB?.toFixed(0)} MiB, ${(r.ms / 1000).toFixed(1)} s`)
  t.regex(r.stderr, message, summary(r))
  t.not(r.peakMB, null, 'the child reported its peak memory')
  t.true(r.peakMB! < peakMB, `peak ${r.peakMB?.toFixed(0)} MiB, bound ${peakMB} MiB`)
  t.deepEqual(await fingerprint(t.context.good.runDir), t.context.good.print, 'the good run is intact')
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false)
}

test.serial('a 20 GB sparse file listed as an image is refused by size; with --data.skip-bad the run goes on and says what it skipped', async (t) => {
  const data = await folderDataset(path.join(await caseDir(t, 'huge'), 'data'))
  const huge = path.join(data, 'train', 'dark', 'huge.jpg')
  await sparseFile(huge, 20 * 1024 ** 3)
  const out = path.join(t.context.root, 'huge', 'run')
  const r = await runCli(['train', '--data', data, ...TINY, '--out', out])
  await assertRefused(t, r, new RegExp(`${huge}: 20 GiB is over the limit of 64 MiB per image file \\(maxImageMB\\)`))
  t.false(await exists(out), 'the failed start left no directory behind')

  const skipped = await runCli(['train', '--data', data, ...TINY, '--out', out, '--data.skip-bad'])
  t.is(skipped.code, 0, summary(skipped))
  t.regex(skipped.stderr, /man-fer: skipped 1 bad entry \(data\.skipBad\):\nman-fer: {3}.*huge\.jpg: 20 GiB/)
  t.true(skipped.peakMB! < PEAK_MODEL_MB, `peak ${skipped.peakMB} MiB`)
})

test.serial('a pixel bomb (14000×14000 PNG, ~200 KB) is refused from its header, in training and in predict', async (t) => {
  const data = await folderDataset(path.join(await caseDir(t, 'bomb'), 'data'))
  const bomb = path.join(data, 'train', 'bright', 'bomb.png')
  await pixelBomb(bomb)
  t.true((await fs.stat(bomb)).size < 1024 * 1024)
  const message = new RegExp(`${bomb}: cannot decode image: 14000×14000 pixels \\(196\\.0 megapixels\\) is over the limit of 40\\.0 megapixels`)
  await assertRefused(t, await runCli(['train', '--data', data, ...TINY, '--out', path.join(t.context.root, 'bomb', 'run')]), message)
  await assertRefused(t, await runCli(['predict', '--model', t.context.good.runDir, bomb]), message, PEAK_MODEL_MB)
})

test.serial('a FIFO named like an image is refused by name, without waiting for a writer', async (t) => {
  const data = await folderDataset(path.join(await caseDir(t, 'fifo'), 'data'))
  const fifo = path.join(data, 'train', 'dark', 'pipe.jpg')
  mkfifo(fifo)
  const train = await runCli(['train', '--data', data, ...TINY, '--out', path.join(t.context.root, 'fifo', 'run')], { timeoutMs: 180_000 })
  await assertRefused(t, train, new RegExp(`${fifo}: a named pipe \\(FIFO\\), not a regular file`))
  const predict = await runCli(['predict', '--model', t.context.good.runDir, fifo], { timeoutMs: 180_000 })
  await assertRefused(t, predict, new RegExp(`${fifo}: a named pipe \\(FIFO\\), not a regular file: refused`), PEAK_MODEL_MB)
})

test.serial('a link to /dev/zero is refused by name, and so is a link leaving the dataset root', async (t) => {
  const dir = await caseDir(t, 'links')
  const data = await folderDataset(path.join(dir, 'data'))
  const zero = path.join(data, 'train', 'dark', 'zero.jpg')
  await fs.symlink('/dev/zero', zero)
  const outside = path.join(dir, 'outside.jpg')
  await fs.copyFile(path.join(data, 'train', 'dark', '0.jpg'), outside)
  const escape = path.join(data, 'train', 'bright', 'escape.jpg')
  await fs.symlink(outside, escape)
  const train = await runCli(['train', '--data', data, ...TINY, '--out', path.join(dir, 'run')], { timeoutMs: 180_000 })
  await assertRefused(t, train, new RegExp(`${zero}: a link to a character device, not a regular file`))
  t.regex(train.stderr, new RegExp(`path train/bright/escape\\.jpg escapes the dataset root ${data} \\(it resolves to ${outside}\\)`))
  const predict = await runCli(['predict', '--model', t.context.good.runDir, zero], { timeoutMs: 180_000 })
  await assertRefused(t, predict, new RegExp(`${zero}: a character device, not a regular file: refused`), PEAK_MODEL_MB)
})

test.serial('a zip-bomb weights file is refused before it inflates; the corrected command then runs in the same directory', async (t) => {
  const dir = await caseDir(t, 'zipbomb')
  const bomb = zipBomb(path.join(dir, 'bomb.pth'))
  t.true((await fs.stat(bomb)).size < 2 * 1024 * 1024)
  const out = path.join(dir, 'run')
  const args = ['train', '--data', t.context.good.data, ...TINY, '--out', out]
  const r = await runCli([...args, '--pretrained', bomb])
  await assertRefused(t, r, new RegExp(`${bomb}: tensor conv1\\.weight: .*inflates past 37 KiB, more than it declares \\(a zip bomb\\?\\): refused`), PEAK_MODEL_MB)
  t.false(await exists(path.join(out, 'config.json')), 'nothing of the failed start is left')
  const corrected = await runCli(args)
  t.is(corrected.code, 0, summary(corrected))
  t.true(await exists(path.join(out, 'checkpoints', 'last.safetensors')))
})

test.serial('a pretrained file holding NaN is refused naming the tensor', async (t) => {
  const dir = await caseDir(t, 'nanweights')
  const nan = nanWeights(path.join(dir, 'nan.pth'), 2)
  const r = await runCli(['train', '--data', t.context.good.data, ...TINY, '--out', path.join(dir, 'run'), '--pretrained', nan])
  await assertRefused(t, r, new RegExp(`${nan}: layer1\\.0\\.conv1\\.weight holds NaN or infinite values`), PEAK_MODEL_MB)
})

test.serial('a label typo (1000000) cannot size the model; 1-based labels and an empty class folder are named', async (t) => {
  const dir = await caseDir(t, 'labels')
  const data = await folderDataset(path.join(dir, 'csv'))
  const rows = ['path,label,split', ...['bright', 'dark'].flatMap((c, y) => [0, 1, 2].map((i) => `train/${c}/${i}.jpg,${y},train`))]
  const testRows = ['bright', 'dark'].map((c, y) => `test/${c}/0.jpg,${y},test`)
  const typo = path.join(data, 'typo.csv')
  await fs.writeFile(typo, [...rows, 'train/dark/3.jpg,1000000,train', ...testRows].join('\n'))
  const r = await runCli(['train', '--data', typo, ...TINY, '--out', path.join(dir, 'run')])
  await assertRefused(t, r, new RegExp(`${typo}:8: label 1000000 is over the limit of 1000 classes \\(data\\.maxClasses\\)`))

  const oneBased = path.join(data, 'one-based.csv')
  await fs.writeFile(oneBased, rows.concat(testRows).map((l) => l.replace(/,([01]),(train|test)$/, (_, y, s) => `,${Number(y) + 1},${s}`)).join('\n'))
  const r1 = await runCli(['train', '--data', oneBased, ...TINY, '--out', path.join(dir, 'run')])
  await assertRefused(t, r1, /class\(es\) of the dataset at .* have no training sample: "0" \(index 0\); class indices start at 0: are the labels 1-based\?/)

  const folder = await folderDataset(path.join(dir, 'folder'))
  await fs.mkdir(path.join(folder, 'train', 'calm'))
  const r2 = await runCli(['train', '--data', folder, ...TINY, '--out', path.join(dir, 'run')])
  await assertRefused(t, r2, /have no training sample: "calm" \(index 1\); remove the class, add samples, or set data\.allowEmptyClasses/)
})

test.serial('a learning rate of NaN is refused naming the option', async (t) => {
  const r = await runCli(['train', '--data', t.context.good.data, ...TINY, '--lr', 'NaN', '--out', path.join(t.context.root, 'nan-lr')])
  await assertRefused(t, r, /--lr/)
  t.false(await exists(path.join(t.context.root, 'nan-lr')))
})

test.serial('a directory holding a real run is refused and left intact', async (t) => {
  const r = await runCli(['train', '--data', t.context.good.data, ...TINY, '--out', t.context.good.runDir])
  await assertRefused(t, r, new RegExp(`${t.context.good.runDir} already holds a run: resume it`))
  t.false(await exists(path.join(t.context.good.runDir, 'run.lock')))
})

test.serial('bad predict() inputs throw ManErrors naming the index, quickly and within bounded memory', async (t) => {
  const r = await runScript(path.join(ROOT, '__test__', 'native', 'reliability', 'api-child.ts'), [t.context.good.runDir], { timeoutMs: 180_000 })
  t.is(r.code, 0, summary(r))
  t.log(`exit ${r.code}, peak ${r.peakMB?.toFixed(0)} MiB, ${(r.ms / 1000).toFixed(1)} s`)
  t.true(r.peakMB! < PEAK_MODEL_MB, `peak ${r.peakMB?.toFixed(0)} MiB, bound ${PEAK_MODEL_MB} MiB`)
  const results = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, { code?: string; message?: string; value?: unknown }>
  const expect = (name: string, code: string, message: RegExp) => {
    t.is(results[name]?.code, code, `${name}: ${JSON.stringify(results[name])}`)
    t.regex(results[name]?.message ?? '', message, name)
  }
  expect('predict [undefined]', 'ERR_MAN_ARGUMENT', /images\[0\] is undefined; expected a file path/)
  expect('predict [path, 42]', 'ERR_MAN_ARGUMENT', /images\[1\] is the number 42/)
  expect('predict [URL]', 'ERR_MAN_ARGUMENT', /images\[0\] is a URL object/)
  expect('predict "x.jpg"', 'ERR_MAN_ARGUMENT', /images must be an array/)
  expect('predict one bad buffer at #2', 'ERR_MAN_DECODE', /1 image\(s\) cannot be read:\n {2}image #2: cannot decode image/)
  expect('predict a bad buffer after a path', 'ERR_MAN_DECODE', /image #1: cannot decode image/)
  expect('coDivide undefined labels', 'ERR_MAN_ARGUMENT', /coDivide: labels must be an Int32Array, got undefined/)
  expect('crossEntropy(null)', 'ERR_MAN_ARGUMENT', /losses\.crossEntropy: logits must be an array of rows/)
  expect('crossEntropy NaN', 'ERR_MAN_ARGUMENT', /logits\[0\]\[1\] must be a finite number, got NaN/)
  expect('kl Infinity', 'ERR_MAN_ARGUMENT', /target\[1\]\[0\] must be a finite number, got the number Infinity/)
  t.is(results['predict good']?.code, undefined, JSON.stringify(results['predict good']))
})
