/**
 * Opens a report in headless Chromium (Debian's `chromium`, driven by
 * playwright-core; no browser download) with a fresh profile, and records
 * what a person would notice: console errors, page errors, any request that
 * leaves the file, and whether every chart drew its data. Shared by the
 * report spec and `npm run report:screenshot`.
 */
import { existsSync, promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

import { chromium, type BrowserContext, type Page } from 'playwright-core'

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
  const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'man-fer-chromium-'))
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
    await fs.rm(profile, { recursive: true, force: true })
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
        name: (el as HTMLElement).dataset.chart ?? '',
        rendered: (el as HTMLElement).dataset.rendered ?? null,
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
      await fs.rm(profile, { recursive: true, force: true })
    },
  }
}
