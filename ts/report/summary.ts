/** The run at a glance: what trained on what, where, how long, how well; rows of [label, value] for the report. */
import { resolveConfig } from '../config/index.ts'
import type { RunData } from './run-data.ts'

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`)

function duration(ms: number): string {
  const s = Math.round(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`
}

function leaves(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix === '' ? k : `${prefix}.${k}`, out)
  } else out.set(prefix, value)
}

/** Options whose value differs from the schema's default (the run directory itself left out). */
export function nonDefaultOptions(config: unknown): Array<[string, string]> {
  const defaults = new Map<string, unknown>()
  const given = new Map<string, unknown>()
  leaves(resolveConfig({}), '', defaults)
  leaves(config, '', given)
  return [...given]
    .filter(([k, v]) => k !== 'out' && JSON.stringify(v) !== JSON.stringify(defaults.get(k)))
    .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])
}

export interface Summary {
  rows: Array<[string, string]>
  options: Array<[string, string]>
}

export function runSummary(run: RunData): Summary {
  const { info, epochs, config, predictions } = run
  const last = epochs.at(-1)!
  const tail = epochs.slice(-5)
  const best = epochs.filter((e) => e.isBest).at(-1)
  const selectedBy = last.validation !== null ? 'validation' : 'test'
  const wallMs = epochs.reduce((s, e) => s + (e.timings?.totalMs ?? 0), 0)
  const noise = run.start?.noise as { rate: number; flipped: number } | null | undefined
  const rows: Array<[string, string]> = [
    ['data set', `${info.dataset.root} (${info.dataset.format})`],
    [
      'sizes',
      `${info.dataset.train} train` + (info.dataset.validation > 0 ? `, ${info.dataset.validation} validation` : '') + `, ${info.dataset.test} test`,
    ],
    ['classes', `${info.classNames.length}: ${info.classNames.join(', ')}`],
    ['method', config.method === 'man' ? 'MAN (co-division, tri-regularisation)' : 'cross-entropy baseline'],
    ['epochs', `${epochs.length} of ${config.train.epochs} (${config.train.warmup} warm-up), image size ${config.train.imageSize} px`],
    ['device', `${String(run.start?.device ?? predictions.runtime.device ?? '–')}${predictions.runtime.torch ? `, torch ${predictions.runtime.torch}` : ''}`],
    ['training time', duration(wallMs)],
    [
      'test accuracy (ensemble)',
      `best ${pct(best?.test.accuracy)}${best ? ` (epoch ${best.epoch}, chosen by ${selectedBy})` : ''}, last ${pct(last.test.accuracy)}, ` +
        `mean of last ${tail.length} ${pct(tail.reduce((s, e) => s + e.test.accuracy, 0) / tail.length)}`,
    ],
    ['mean class accuracy (last)', pct(last.test.meanClassAccuracy)],
  ]
  if (noise) rows.push(['injected noise', `${pct(noise.rate)} of training labels flipped (${noise.flipped})`])
  if (config.model.pretrained !== undefined) rows.push(['pretrained backbone', config.model.pretrained])
  rows.push([
    'final predictions',
    `epoch ${predictions.epoch}, test view, ${run.predictionsSource === 'stored' ? 'stored by training' : 'computed for this report from checkpoints/last'}`,
  ])
  return { rows, options: nonDefaultOptions(config) }
}
