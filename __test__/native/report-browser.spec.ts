/**
 * The report of a small real run (the addon on a tiny synthetic set with
 * injected noise), opened in headless Chromium as a person would open it:
 * nothing fails, nothing is fetched, every chart draws its data, the suspect
 * table sorts and filters. Also: a run without stored predictions has them
 * computed from its last checkpoint, equal to the stored ones.
 */
import { existsSync, promises as fs } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'

import test from 'ava'

import { synthesize, train, writeReport } from '../../ts/index.ts'
import { readTrainPredictions, trainPredictionsPath } from '../../ts/report/predictions.ts'
import { openReport, screenshotReport } from '../helpers/report-browser.ts'
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.ts'

const root = makeTempDir('man-fer-report-')
const data = join(root, 'data')
const out = join(root, 'run')
test.before(async () => {
  await synthesize({ out: data, train: 48, test: 24, size: 32, noiseRate: 0.25, seed: 11 })
  await train({
    data: { path: data },
    train: { epochs: 3, warmup: 1, batchSize: 16, imageSize: 32, seed: 3 },
    runtime: { device: 'cpu', threads: 1, dataThreads: 1, evalBatchSize: 64 },
    report: { top: 20 },
    out,
  })
})
test.after.always(() => removeTempDir(root))

const CHARTS = ['accuracy', 'loss', 'partition', 'lambda', 'lr', 'confusion', 'class-accuracy', 'detection', 'detection-class', 'pairs']

async function columnValues(page: import('playwright-core').Page, key: string): Promise<string[]> {
  return page.$$eval(`#suspect-table tbody td[data-key="${key}"]`, (tds) => tds.map((td) => td.getAttribute('data-value') ?? ''))
}

test.serial('the report opens offline in Chromium: no errors, no requests, every chart drawn, the table sorts and filters', async (t) => {
  const file = join(out, 'report.html')
  t.true(existsSync(file), 'train() wrote report.html')
  const opened = await openReport(file)
  t.teardown(opened.close)
  const { page } = opened
  t.deepEqual(opened.errors, [])
  t.deepEqual(opened.network, [])
  t.deepEqual(opened.charts.map((c) => c.name).sort(), [...CHARTS].sort())
  for (const c of opened.charts) {
    t.is(c.rendered, 'true', `${c.name} rendered`)
    t.true(c.svgs > 0 && c.marks > 0, `${c.name}: ${c.svgs} svg, ${c.marks} data marks`)
  }
  t.is(await page.locator('#suspect-table tbody img').count(), 20, 'thumbnails for the top 20 suspects')
  t.is(await page.getAttribute('#suspect-table', 'data-rows'), '48')
  t.regex((await page.textContent('#topk')) ?? '', /precision [\d.]+%, against a base rate of 25\.0%/)

  // Sorting: a numeric column ascending, then descending; a text column in collation order.
  const header = (key: string) => page.locator(`#suspect-table th[data-key="${key}"]`)
  await header('times_noisy').click()
  t.is(await header('times_noisy').getAttribute('aria-sort'), 'ascending')
  const up = (await columnValues(page, 'times_noisy')).map(Number)
  t.deepEqual(up, [...up].sort((a, b) => a - b))
  await header('times_noisy').click()
  t.is(await header('times_noisy').getAttribute('aria-sort'), 'descending')
  const down = (await columnValues(page, 'times_noisy')).map(Number)
  t.deepEqual(down, [...down].sort((a, b) => b - a))
  t.true(down[0]! > down.at(-1)! || new Set(down).size === 1)
  await header('given_label').click()
  const names = await columnValues(page, 'given_label')
  t.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)))
  t.true(new Set(names).size > 1)

  // Filtering by given class narrows the table to that class.
  const cls = names.at(-1)!
  await page.selectOption('#filter-given', { label: cls })
  const rows = Number(await page.getAttribute('#suspect-table', 'data-rows'))
  t.true(rows > 0 && rows < 48, `${rows} rows of ${cls}`)
  t.true((await columnValues(page, 'given_label')).every((v) => v === cls))
  await page.selectOption('#filter-given', { value: '' })
  await page.check('#filter-issue')
  const flagged = await columnValues(page, 'is_label_issue')
  t.true(flagged.every((v) => v === 'yes'))

  await page.uncheck('#filter-issue')
  await header('rank').click()
  t.is(await page.getAttribute('#suspect-table', 'data-rows'), '48')
  const shots = await screenshotReport(opened, join(root, 'report'), 8)
  for (const shot of shots) {
    const png = await fs.readFile(shot)
    t.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], `${shot} is a PNG`)
    t.true(png.length > 10_000)
  }
  t.deepEqual(opened.errors, [], 'nothing failed while clicking')
})

test.serial('a run without stored predictions gets them from checkpoints/last (libtorch), equal to the stored ones', async (t) => {
  const stored = (await readTrainPredictions(out))!
  await fs.rename(trainPredictionsPath(out), join(root, 'train-final.json'))
  const csv = join(root, 'samples.csv')
  const r = await writeReport(out, { out: join(root, 'computed.html'), csv })
  t.is(r.predictions, 'computed')
  t.log(`top-${r.topK!.k} suspects of the tiny real run: precision ${(100 * r.topK!.precision).toFixed(1)}% (base rate ${(100 * r.topK!.baseRate).toFixed(1)}%)`)
  t.is(r.thumbnails.shown, 20)
  // Thumbnails for the top 20 only, each a small JPEG.
  const html = await fs.readFile(join(root, 'computed.html'), 'utf8')
  t.is(html.match(/data:image\/jpeg;base64,/g)?.length, 20)
  t.true(r.bytes.thumbnails < 20 * 3 * 1024, `${r.bytes.thumbnails} bytes of thumbnails`)
  t.false(existsSync(trainPredictionsPath(out)), 'the report computes them for itself and does not write into the run')
  await fs.rename(join(root, 'train-final.json'), trainPredictionsPath(out))
  const again = await writeReport(out, { out: join(root, 'stored.html'), csv: join(root, 'stored.csv') })
  t.is(again.predictions, 'stored')
  t.is(await fs.readFile(csv, 'utf8'), await fs.readFile(join(root, 'stored.csv'), 'utf8'))
  t.deepEqual(Array.from(stored.pred1), Array.from((await readTrainPredictions(out))!.pred1))
})

test.serial('--rows keeps the page to the most suspect samples, thumbnails still on the top ones', async (t) => {
  const file = join(root, 'capped.html')
  const csv = join(root, 'capped.csv')
  await writeReport(out, { out: file, csv, rows: 10, top: 5 })
  const page = await embedded(file)
  const csvPaths = (await fs.readFile(csv, 'utf8')).split('\r\n').slice(1, 11).map((l) => l.split(',')[2])
  t.is(page.samples.total, 48)
  t.deepEqual(page.samples.names, csvPaths, 'the ten most suspect, in rank order')
  t.deepEqual(page.samples.rank, Array.from({ length: 10 }, (_, i) => i + 1))
  t.deepEqual(Object.keys(page.thumbs).map(Number).sort((a, b) => a - b), [0, 1, 2, 3, 4], 'the five top rows have thumbnails')
})

/** The page's embedded data: the thumbnails by table row and the gzip-compressed per-sample columns. */
async function embedded(file: string): Promise<{ thumbs: Record<string, string>; samples: { total: number; names: string[]; rank: number[] } }> {
  const html = await fs.readFile(file, 'utf8')
  const script = (id: string) => new RegExp(`<script[^>]*id="${id}"[^>]*>([^<]*)</script>`).exec(html)![1]!
  return {
    thumbs: JSON.parse(script('thumbs')) as Record<string, string>,
    samples: JSON.parse(gunzipSync(Buffer.from(script('samples'), 'base64')).toString('utf8')),
  }
}
