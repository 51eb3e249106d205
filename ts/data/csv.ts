/**
 * CSV listings: `path,label[,split]`, one image a row, an optional header row
 * (which may reorder the columns). Paths are relative to the CSV's folder.
 * Labels are either all integers (class indices; class names "0", "1", ...) or
 * class names (sorted by code point); in a file that mixes the two, the
 * minority kind is reported as unknown. Split is train or test, default train.
 * A test label that never occurs in training is unknown.
 */
import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { DATA_LIMITS } from '../config/schema.ts'
import { dataError } from './problems.ts'
import type { Scan } from './scan.ts'
import type { Split } from './types.ts'

/** Splits one CSV line, honouring double quotes ("" inside quotes is a quote). */
export function splitCsvLine(line: string): string[] | null {
  const fields: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"' && field === '') quoted = true
    else if (c === ',') {
      fields.push(field)
      field = ''
    } else field += c
  }
  if (quoted) return null
  fields.push(field)
  return fields.map((f) => f.trim())
}

interface Row {
  line: number
  path: string
  label: string
  split: Split
}

const INTEGER = /^-?\d+$/

export async function scanCsv(csvPath: string, maxClasses: number = DATA_LIMITS.maxClasses): Promise<Scan> {
  let text: string
  try {
    text = await readFile(csvPath, 'utf8')
  } catch (err) {
    throw dataError(`cannot read the CSV ${csvPath}: ${(err as Error).message}`, err)
  }
  const root = dirname(csvPath)
  const scan: Scan = { root, format: 'csv', classNames: [], entries: [], problems: [], checkExistence: true }
  const problem = (line: number, message: string) => scan.problems.push({ file: csvPath, line, message })

  const lines = text.replace(/^\uFEFF/, '').split('\n')
  let columns = { path: 0, label: 1, split: 2 }
  let maxFields = 3
  const rows: Row[] = []
  let sawData = false
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim()
    if (raw === '') continue
    const fields = splitCsvLine(raw)
    if (!fields) {
      problem(i + 1, `malformed line (unclosed quote): ${JSON.stringify(raw)}`)
      continue
    }
    const lower = fields.map((f) => f.toLowerCase())
    if (!sawData && lower.includes('path') && lower.includes('label')) {
      columns = { path: lower.indexOf('path'), label: lower.indexOf('label'), split: lower.indexOf('split') }
      maxFields = fields.length
      sawData = true
      continue
    }
    sawData = true
    if (fields.length < 2 || fields.length > maxFields) {
      problem(i + 1, `malformed line (expected path,label[,split]): ${JSON.stringify(raw)}`)
      continue
    }
    const path = fields[columns.path] ?? ''
    const label = fields[columns.label] ?? ''
    const splitText = (columns.split >= 0 ? fields[columns.split] : undefined) ?? ''
    if (path === '' || label === '') {
      problem(i + 1, `malformed line (empty ${path === '' ? 'path' : 'label'}): ${JSON.stringify(raw)}`)
      continue
    }
    const split = splitText === '' ? 'train' : splitText.toLowerCase()
    if (split !== 'train' && split !== 'test') {
      problem(i + 1, `malformed line (split must be train or test, got ${JSON.stringify(splitText)})`)
      continue
    }
    rows.push({ line: i + 1, path, label, split })
  }

  const integers = rows.filter((r) => INTEGER.test(r.label)).length
  const byIndex = integers * 2 > rows.length || (integers > 0 && integers * 2 === rows.length)
  if (byIndex) {
    // One typo like 1000000 would otherwise declare a million classes.
    const typos = rows.filter((r) => INTEGER.test(r.label) && Number(r.label) >= maxClasses)
    for (const r of typos) {
      problem(r.line, `label ${r.label} is over the limit of ${maxClasses} classes (data.maxClasses): a typo?`)
    }
    if (typos.length > 0) rows.splice(0, rows.length, ...rows.filter((r) => !typos.includes(r)))
  }
  const trainLabels = rows.filter((r) => r.split === 'train' && INTEGER.test(r.label) === byIndex).map((r) => r.label)
  if (byIndex) {
    const max = trainLabels.reduce((m, l) => Math.max(m, Number(l)), -1)
    scan.classNames = Array.from({ length: max + 1 }, (_, i) => String(i))
  } else {
    scan.classNames = [...new Set(trainLabels)].sort()
  }
  const classIndex = new Map(scan.classNames.map((c, i) => [c, i]))

  for (const r of rows) {
    const key = byIndex && INTEGER.test(r.label) ? String(Number(r.label)) : r.label
    const label = classIndex.get(key)
    if (label === undefined) {
      const why =
        INTEGER.test(r.label) !== byIndex
          ? `labels in this file are ${byIndex ? 'integers' : 'class names'}`
          : 'not in the training rows'
      problem(r.line, `unknown label ${JSON.stringify(r.label)} (${why})`)
      continue
    }
    const path = isAbsolute(r.path) ? resolve(r.path) : resolve(root, r.path)
    scan.entries.push({ path, shown: r.path, label, split: r.split, file: csvPath, line: r.line })
  }
  return scan
}
