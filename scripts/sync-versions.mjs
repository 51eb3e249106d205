// Keeps the platform packages (npm/<triple>) at the main package's version.
// `--check` only reports a mismatch (exit 1). The main package's
// optionalDependencies on them are written into the packed manifest by
// scripts/pack.mjs, not into the development package.json, where `npm ci`
// would look them up in the registry before they are published.
import { readFileSync, writeFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const check = process.argv.includes('--check')
const main = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
let mismatches = 0
for (const triple of readdirSync(join(root, 'npm'))) {
  const path = join(root, 'npm', triple, 'package.json')
  const pkg = JSON.parse(readFileSync(path, 'utf8'))
  if (pkg.version === main.version) continue
  mismatches++
  console.error(`${check ? 'version mismatch' : 'synced'}: ${path}: ${pkg.version} -> ${main.version}`)
  if (!check) writeFileSync(path, JSON.stringify({ ...pkg, version: main.version }, null, 2) + '\n')
}
process.exitCode = check && mismatches ? 1 : 0
