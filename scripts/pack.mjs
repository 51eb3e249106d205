// Packs the two tarballs a user installs: `man-fer` (JS, types, CLI) and the
// platform package with the prebuilt addon. The main package's manifest gains
// its optionalDependencies on the platform packages here, at the same version.
// Usage: node --import=tsx scripts/pack.mjs <out-dir>   (prints the tarball paths as JSON)
import { execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import { addonFile, hostPlatform, platformPackage, prebuiltPlatforms } from '../ts/native/platform.ts'

const root = new URL('..', import.meta.url).pathname
const outDir = resolve(process.argv[2] ?? join(root, '.cache', 'pack'))
mkdirSync(outDir, { recursive: true })

const main = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const triple = hostPlatform()

function npmPack(dir) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], { cwd: dir, encoding: 'utf8' })
  const [info] = JSON.parse(out)
  return join(outDir, info.filename)
}

// The main package, from a staging copy whose manifest lists the platform packages.
const stage = mkdtempSync(join(tmpdir(), 'man-fer-pack-'))
try {
  for (const f of main.files) cpSync(join(root, f), join(stage, f), { recursive: true })
  const manifest = { ...main, optionalDependencies: Object.fromEntries(prebuiltPlatforms(root).map((t) => [platformPackage(t), main.version])) }
  delete manifest.devDependencies
  delete manifest.scripts
  delete manifest.ava
  writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
  const mainTgz = npmPack(stage)

  // The platform package, with the freshly built addon.
  const addon = addonFile(triple)
  copyFileSync(join(root, addon), join(root, 'npm', triple, addon))
  const platformTgz = npmPack(join(root, 'npm', triple))

  const sizes = Object.fromEntries([mainTgz, platformTgz].map((p) => [p, statSync(p).size]))
  process.stdout.write(JSON.stringify({ main: mainTgz, platform: platformTgz, triple, platformPackage: platformPackage(triple), sizes }) + '\n')
} finally {
  rmSync(stage, { recursive: true, force: true })
}
