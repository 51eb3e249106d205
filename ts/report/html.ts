/**
 * The report page: one HTML file with its styles, the charting library
 * (Observable Plot and d3, inlined from node_modules), its script and its data,
 * so that it opens from disk with no network. Per-sample columns travel
 * gzip-compressed (the page inflates them with DecompressionStream), so that a
 * set of hundreds of thousands of images stays a few MB.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

import type { Summary } from './summary.ts'

const ASSETS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets')

/** The directory of an installed package, found from its entry point (its exports hide package.json). */
function packageDir(pkg: string, from: string): string {
  let dir = path.dirname(createRequire(from).resolve(pkg))
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }
      if (json.name === pkg) return dir
    } catch {
      // Not the package root yet.
    }
    const up = path.dirname(dir)
    if (up === dir) throw new Error(`cannot find the directory of the package ${pkg}`)
    dir = up
  }
}

let library: string | null = null

/** d3 then Plot (its UMD build reads the global d3), the d3 Plot itself depends on. */
export function chartLibrary(): string {
  if (library === null) {
    const plotDir = packageDir('@observablehq/plot', import.meta.url)
    const d3Dir = packageDir('d3', path.join(plotDir, 'package.json'))
    library = [readFileSync(path.join(d3Dir, 'dist', 'd3.min.js'), 'utf8'), readFileSync(path.join(plotDir, 'dist', 'plot.umd.min.js'), 'utf8')].join('\n')
  }
  return library
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Inline <script> content must not close its element early. */
function scriptSafe(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1')
}

function jsonScript(id: string, value: unknown): string {
  const json = JSON.stringify(value).replace(/</g, '\\u003c')
  return `<script type="application/json" id="${id}">${json}</script>`
}

function table(rows: Array<[string, string]>): string {
  return `<table class="kv">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`
}

export interface PageInput {
  title: string
  runDir: string
  generated: string
  summary: Summary
  /** Small JSON the charts read. */
  model: Record<string, unknown>
  /** Per-sample columns, compressed. */
  samples: Record<string, unknown>
  /** Sample index → thumbnail data URI. */
  thumbs: Record<number, string>
  truthKnown: boolean
  top: number
}

export interface PageParts {
  html: string
  bytes: { total: number; library: number; page: number; model: number; samples: number; thumbnails: number }
}

const chart = (name: string, title: string, note = '') =>
  `<figure class="chart-box"><figcaption>${escapeHtml(title)}${note && ` <span class="note">${escapeHtml(note)}</span>`}</figcaption><div class="chart" data-chart="${name}"></div></figure>`

export function renderPage(p: PageInput): PageParts {
  const lib = chartLibrary()
  const css = readFileSync(path.join(ASSETS, 'report.css'), 'utf8')
  const js = ['charts.js', 'table.js'].map((f) => readFileSync(path.join(ASSETS, f), 'utf8')).join('\n')
  const samplesB64 = gzipSync(JSON.stringify(p.samples), { level: 9 }).toString('base64')
  const modelScript = jsonScript('model', p.model)
  const thumbsScript = jsonScript('thumbs', p.thumbs)
  const samplesScript = `<script type="application/octet-stream" id="samples" data-encoding="gzip+base64">${samplesB64}</script>`
  const detection = p.truthKnown
    ? `<section id="detection"><h2>Noise detection against the known true labels</h2>
<p class="topk" id="topk"></p>
<div class="grid">${chart('detection', 'Noisy subset: precision and recall of the flipped labels per epoch', 'dashed: base rate')}${chart('detection-class', 'Per given class and epoch')}</div></section>`
    : `<section id="detection"><h2>Noise detection</h2><p>The true labels of this training set are not known (no injected noise, no truth file), so the suspects cannot be scored here.</p></section>`
  const body = `<header><h1>${escapeHtml(p.title)}</h1><p class="sub">${escapeHtml(p.runDir)} · report made ${escapeHtml(p.generated)}</p></header>
<main>
<section id="summary"><h2>The run</h2><div class="grid"><div>${table(p.summary.rows)}</div><div><h3>Options that differ from the defaults</h3>${p.summary.options.length > 0 ? table(p.summary.options) : '<p>none</p>'}</div></div></section>
<section id="curves"><h2>Training</h2><div class="grid">
${chart('accuracy', 'Test accuracy per epoch', 'f1, f2 and their ensemble')}
${chart('loss', 'Training losses per epoch', 'Lc, La, Ln before their weights; total as back-propagated')}
${chart('partition', 'Co-division of the training set', 'clean / ambiguous / noisy')}
${chart('lambda', 'λ, the weight of mutual learning')}
${chart('lr', 'Learning rate')}
</div></section>
<section id="final"><h2>Final model on the test split</h2><div class="grid">
${chart('confusion', 'Confusion matrix of the ensemble', 'rows: true class; colour: share of the row')}
${chart('class-accuracy', 'Accuracy per class')}
</div></section>
${detection}
<section id="suspects"><h2>Suspected wrong labels</h2>
<div class="about"><p><b>How to read this.</b> Every training image is ranked by its <code>label_score</code>, the quality of its given label between 0 and 1 (low = suspect):
<code>label_score = ½·p(given label) + ½·(1 − noisy share)</code>, where p is the final ensemble's probability of the given label and the
<em>noisy share</em> is the share of co-division epochs that judged the image noisy (ambiguous counts half), later epochs weighing more
(epoch k of K weighs k). Without co-division (the cross-entropy baseline) the score is p(given label). <code>is_label_issue</code> is MAN's own verdict:
the image was in the noisy subset of the last co-division epoch (both networks disagreed with its label).</p>
<p><b>MAN's judgement is in-sample.</b> The two networks trained on these very images, so their predictions are not the out-of-sample
(cross-validated) probabilities cleanlab uses; a network can learn a wrong label by heart and then agree with it. Treat the list as an order in which to review labels, not as proof.</p></div>
<div class="grid">${chart('pairs', 'Where the flagged labels move: given → predicted', 'counts of is_label_issue images')}<div id="pair-list"></div></div>
<div class="controls">
<label>given <select id="filter-given"><option value="">any</option></select></label>
<label>predicted <select id="filter-predicted"><option value="">any</option></select></label>
<label><input type="checkbox" id="filter-issue"> flagged only</label>
${p.truthKnown ? '<label><input type="checkbox" id="filter-flipped"> flipped only</label>' : ''}
<span id="table-count"></span>
<span class="pager"><button id="prev" type="button">‹ previous</button> <span id="page"></span> <button id="next" type="button">next ›</button></span>
</div>
<div class="table-wrap"><table id="suspect-table" class="suspects"><thead></thead><tbody></tbody></table></div>
<p class="note">Thumbnails for the ${p.top} most suspect images. History: one cell per co-division epoch,
<span class="h h0"></span> clean <span class="h h1"></span> ambiguous <span class="h h2"></span> noisy.</p>
</section>
</main>`
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)}</title>
<style>${css}</style>
</head><body>
${body}
${modelScript}
${thumbsScript}
${samplesScript}
<script>${scriptSafe(lib)}</script>
<script>${scriptSafe(js)}</script>
</body></html>
`
  const size = (s: string) => Buffer.byteLength(s)
  const total = size(html)
  const library = size(lib)
  const model = size(modelScript)
  const samples = size(samplesScript)
  const thumbnails = size(thumbsScript)
  return { html, bytes: { total, library, model, samples, thumbnails, page: total - library - model - samples - thumbnails } }
}
