// Copies every ts/**/assets/ folder (files the code reads at run time, such as
// the report page's script and styles) to the same place under dist/, after tsc.
import { cpSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const src = join(root, 'ts')

function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue
    const p = join(dir, e.name)
    if (e.name === 'assets') cpSync(p, join(root, 'dist', relative(src, p)), { recursive: true })
    else walk(p)
  }
}
walk(src)
