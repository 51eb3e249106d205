/**
 * Opens a report in headless Chromium (Debian's `chromium`, driven by
 * playwright-core; no browser download) with a fresh profile, and records
 * what a person would notice: console errors, page errors, any request that
 * leaves the file, and whether every chart drew its data. Shared by the
 * report spec and `npm run report:screenshot`.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

import { chromium, type BrowserContext, type Page } from 'playwright-core'

import { makeTempDir, removeTempDir } from './temp-dir.ts'

export const CHROMIUM = process.env.MAN_CHROMIUM ?? '/usr/bin/chromium'
/** Flags that keep Chromium off the network and quiet on a machine without a display or GPU. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Chart marks that carry data (Plot labels each mark's group by its kind). */
const DATA_MARKS = ['line', 'area', 'cell', 'bar', 'dot'].map((k) => `g[aria-label="${k}"] > *`).join(', ')

export interface ChartState {
  name: string
  rendered: string | null
  svgs: number
  marks: number
}

export interface OpenedReport {
  page: Page
  /** Console errors and uncaught exceptions, in order. */
  errors: string[]
  /** URLs requested other than the report file itself and data: URIs. */
  network: string[]
  charts: ChartState[]
  close(): Promise<void>
}

export async function openReport(file: string, viewport = { width: 1400, height: 1000 }): Promise<OpenedReport> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set MAN_CHROMIUM)`)
  }
  const profile = makeTempDir('man-fer-chromium-')
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport,
      offline: true,
    })
  } catch (err) {
    removeTempDir(profile)
    throw err
  }
  const url = pathToFileURL(path.resolve(file)).href
  const errors: string[] = []
  const network: string[] = []
  context.on('request', (r) => {
    if (r.url() !== url && !r.url().startsWith('data:')) network.push(r.url())
  })
  const page = context.pages()[0] ?? (await context.newPage())
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`))
  await page.goto(url)
  await page.waitForSelector('body[data-ready="true"], p.error', { timeout: 60_000 })
  const charts = await page.$$eval(
    '[data-chart]',
    (els, marks) =>
      els.map((el) => ({
        name: el.getAttribute('data-chart') ?? '',
        rendered: el.getAttribute('data-rendered'),
        svgs: el.querySelectorAll('svg').length,
        marks: el.querySelectorAll(marks).length,
      })),
    DATA_MARKS,
  )
  return {
    page,
    errors,
    network,
    charts,
    close: async () => {
      await context.close()
      removeTempDir(profile)
    },
  }
}

/**
 * Two pictures of an opened report: the run and its curves (`<prefix>-overview.png`)
 * and the top of the suspect list (`<prefix>-suspects.png`). Returns their paths.
 */
export async function screenshotReport(opened: OpenedReport, prefix: string, suspectRows = 12): Promise<string[]> {
  const { page } = opened
  // In page coordinates (a boundingBox is in the viewport's, which moves as the page scrolls).
  const box = async (selector: string) => {
    const b = (await page.evaluate(
      `(() => { const e = document.querySelector(${JSON.stringify(selector)}); if (!e) return null;
        const r = e.getBoundingClientRect(); return { y: r.top + window.scrollY, height: r.height } })()`,
    )) as { y: number; height: number } | null
    if (b === null) throw new Error(`the report has no ${selector}`)
    return b
  }
  const width = Number(await page.evaluate('document.documentElement.scrollWidth'))
  const curves = await box('#curves')
  const overview = `${prefix}-overview.png`
  await page.screenshot({ path: overview, fullPage: true, clip: { x: 0, y: 0, width, height: curves.y + curves.height } })
  // The table scrolls sideways in a narrow window; widen the window to show all of its columns.
  const tableWidth = Number(await page.evaluate(`document.querySelector('#suspect-table').scrollWidth`))
  const size = page.viewportSize()
  if (size !== null && tableWidth + 80 > size.width) await page.setViewportSize({ width: tableWidth + 80, height: size.height })
  const wide = Number(await page.evaluate('document.documentElement.scrollWidth'))
  const start = await box('#suspects .controls')
  const row = await box(`#suspect-table tbody tr:nth-child(${suspectRows})`)
  const suspects = `${prefix}-suspects.png`
  await page.screenshot({ path: suspects, fullPage: true, clip: { x: 0, y: start.y - 8, width: wide, height: row.y + row.height - start.y + 16 } })
  return [overview, suspects]
}
