/**
 * `npm run report:screenshot -- RUN [PREFIX]`: pictures of a run's report as
 * headless Chromium draws it, through the same code as the report spec
 * (__test__/helpers/report-browser.ts). Writes PREFIX-overview.png and
 * PREFIX-suspects.png (default docs/report) and fails if the page logged an
 * error, fetched anything, or left a chart empty.
 */
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'

import { openReport, screenshotReport } from '../__test__/helpers/report-browser.ts'
import { REPORT_FILE, writeReport } from '../ts/report/index.ts'

const [target, prefix = 'docs/report'] = process.argv.slice(2)
if (target === undefined) {
  console.error('usage: npm run report:screenshot -- RUN [PREFIX]')
  process.exit(1)
}
let file = target
if (statSync(target).isDirectory()) {
  file = path.join(target, REPORT_FILE)
  if (!existsSync(file)) await writeReport(target)
}
const opened = await openReport(file)
try {
  const problems = [
    ...opened.errors,
    ...opened.network.map((u) => `request: ${u}`),
    ...opened.charts.filter((c) => c.rendered !== 'true' || c.marks === 0).map((c) => `chart ${c.name}: ${c.rendered ?? 'not drawn'}`),
  ]
  if (problems.length > 0) throw new Error(`the report has problems:\n${problems.join('\n')}`)
  for (const shot of await screenshotReport(opened, prefix)) console.log(`${shot}: ${statSync(shot).size} bytes`)
} finally {
  await opened.close()
}
