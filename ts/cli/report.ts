/** `man-fer report RUN`: the run's HTML report, and every training sample as CSV / JSON, most suspect first. */
import { writeReport, type ReportOptions } from '../report/index.ts'
import { jsonFlag, parseArgs, renderHelp, UsageError, valueOf, type FlagSpec } from './args.ts'
import { pct } from './format.ts'
import type { Output } from './output.ts'

const specs: FlagSpec[] = [
  { key: 'out', names: ['out'], type: 'string', placeholder: 'FILE.html', description: 'the HTML report; default RUN/report.html' },
  { key: 'csv', names: ['csv'], type: 'string', placeholder: 'FILE.csv', description: 'also write every training sample, most suspect first, as CSV (cleanlab column names where they mean the same)' },
  { key: 'samplesJson', names: ['samples-json'], type: 'string', placeholder: 'FILE.json', description: 'the same rows as JSON' },
  { key: 'top', names: ['top'], type: 'integer', placeholder: 'N', description: "suspects shown with a thumbnail; default the run's report.top (300)" },
  { key: 'rows', names: ['rows'], type: 'integer', placeholder: 'N', description: 'rows of the suspect table in the page: the N most suspect (0 = every image; the CSV always has all)', default: 0 },
  { key: 'data', names: ['data'], type: 'string', placeholder: 'PATH', description: 'where the dataset is now, if it moved since training (thumbnails; predictions of a run that stored none)' },
  { key: 'device', names: ['device'], type: 'string', placeholder: 'auto|cpu|cuda|cuda:N', description: "where to compute missing final predictions; default the run's device" },
  jsonFlag,
]

export function reportHelp(): string {
  return renderHelp(
    'man-fer report RUN [--out FILE.html] [--csv FILE.csv] [--top N]',
    'Writes one self-contained HTML file (opens offline) with the run summary, per-epoch curves, the final confusion matrix,\n' +
      'noise detection when true labels are known, and every training image ranked by how likely its label is wrong.\n' +
      'A run that stored no final predictions has them computed from checkpoints/last (needs libtorch and the dataset).',
    specs,
  )
}

const kb = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${Math.round(bytes / 1024)} KB`)

export async function reportCommand(argv: string[], out: Output): Promise<number> {
  const parsed = parseArgs(argv, specs, { positionals: 'RUN' })
  if (parsed.help) {
    out.data(reportHelp())
    return 0
  }
  if (parsed.positionals.length !== 1) throw new UsageError('report needs exactly one RUN directory')
  const top = valueOf<number>(parsed, 'top')
  if (top !== undefined && top < 0) throw new UsageError(`--top must be 0 or more, got ${top}`)
  const rows = valueOf<number>(parsed, 'rows')
  if (rows !== undefined && rows < 0) throw new UsageError(`--rows must be 0 or more, got ${rows}`)
  const options: ReportOptions = {}
  const set = <K extends keyof ReportOptions>(k: K, v: ReportOptions[K] | undefined) => {
    if (v !== undefined) options[k] = v
  }
  set('out', valueOf<string>(parsed, 'out'))
  set('csv', valueOf<string>(parsed, 'csv'))
  set('json', valueOf<string>(parsed, 'samplesJson'))
  set('top', top)
  set('rows', rows)
  set('dataRoot', valueOf<string>(parsed, 'data'))
  set('device', valueOf<string>(parsed, 'device'))
  const r = await writeReport(parsed.positionals[0]!, options)
  if (out.json) {
    out.event({ type: 'report', ...r })
    return 0
  }
  const b = r.bytes
  out.data(`report: ${r.html} (${kb(b.total)}: charting library ${kb(b.library)}, samples ${kb(b.samples)}, ${r.thumbnails.shown} thumbnails ${kb(b.thumbnails)})`)
  if (r.predictions === 'computed') out.data('final predictions: computed from checkpoints/last (the run stored none)')
  if (r.thumbnails.missing > 0) out.data(`thumbnails: ${r.thumbnails.missing} image(s) could not be read (moved? pass --data)`)
  out.data(`training images: ${r.samples}, flagged (is_label_issue): ${r.labelIssues}`)
  if (r.topK !== null) {
    out.data(`top ${r.topK.k} suspects: ${r.topK.hits} flipped labels, precision ${pct(r.topK.precision)} (base rate ${pct(r.topK.baseRate)})`)
  }
  if (r.csv !== null) out.data(`csv: ${r.csv}`)
  if (r.json !== null) out.data(`json: ${r.json}`)
  return 0
}
