// Copies the locally built addon into its platform package (npm/<triple>/),
// ready for `npm pack` / `npm publish` there.
import { copyFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'

import { addonFile, hostPlatform } from '../ts/native/platform.ts'

const root = new URL('..', import.meta.url).pathname
const triple = hostPlatform()
const file = addonFile(triple)
const from = join(root, file)
if (!existsSync(from)) {
  console.error(`stage: ${from} does not exist; run npm run build:native first`)
  process.exit(1)
}
const to = join(root, 'npm', triple, file)
copyFileSync(from, to)
console.error(`stage: ${file} -> npm/${triple}/`)
