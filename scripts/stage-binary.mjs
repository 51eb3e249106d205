// Copies the locally built addon into its platform package (npm/<triple>/),
// ready for `npm pack` / `npm publish` there.
import { copyFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const triple = process.platform === 'linux' ? `linux-${process.arch}-gnu`
  : process.platform === 'win32' ? `win32-${process.arch}-msvc` : `${process.platform}-${process.arch}`
const file = `man-fer.${triple}.node`
const from = join(root, file)
if (!existsSync(from)) {
  console.error(`stage: ${from} does not exist; run npm run build:native first`)
  process.exit(1)
}
const to = join(root, 'npm', triple, file)
copyFileSync(from, to)
console.error(`stage: ${file} -> npm/${triple}/`)
