// The user's path: pack both tarballs, install them into a new temporary
// project (the platform package through the main package's
// optionalDependencies, pinned to the local tarball), then import, require,
// type-check and run the CLI there; then `npx man-fer setup` installs torch
// into a man-fer cache folder of its own (pip reuses its cache after the first
// time) and a one-epoch training on a synthetic set runs on it, with no
// MAN_LIBTORCH. Exits 1 on the first failed check. --no-setup skips the
// setup and training (minutes, and ~5 GB of disk while it runs).
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname

/** `npx man-fer setup` in the app, into a cache folder of its own, then one epoch on a synthetic set with that torch. */
function setupAndTrain(app, baseEnv, pythonHasTorch) {
  // The checkout's .venv must not be the python3 that setup finds.
  const path = (baseEnv.PATH ?? '').split(':').filter((d) => !d.startsWith(join(root, '.venv'))).join(':')
  const env = { ...baseEnv, PATH: path, MAN_FER_HOME: join(app, '..', 'man-fer-home') }
  const run = (args, what) => {
    const t0 = Date.now()
    const r = spawnSync('npx', ['--no-install', 'man-fer', ...args], { cwd: app, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    if (r.status !== 0) fail(`${what} exited ${r.status}:\n${r.stdout}`)
    return { out: r.stdout, seconds: (Date.now() - t0) / 1000 }
  }
  const check = spawnSync('npx', ['--no-install', 'man-fer', 'setup', '--check'], { cwd: app, env, encoding: 'utf8' })
  process.stdout.write(`man-fer setup --check (exit ${check.status}): ${check.stdout}`)
  // A python3 with torch 2.11.0 on PATH would be used as it is; --force still makes setup install its own.
  step(`npx man-fer setup${pythonHasTorch ? ' --force' : ''} into ${env.MAN_FER_HOME} (PIP_CACHE_DIR=${env.PIP_CACHE_DIR ?? 'pip default'})`)
  const setup = run(['setup', ...(pythonHasTorch ? ['--force'] : [])], 'man-fer setup')
  process.stdout.write(`man-fer setup: ${setup.out.trim()} (${setup.seconds.toFixed(0)} s)\n`)
  if (!/from man-fer setup: /.test(setup.out)) fail('man-fer setup did not install into its cache folder')
  const du = spawnSync('du', ['-sh', env.MAN_FER_HOME], { encoding: 'utf8' }).stdout.split('\t')[0]
  process.stdout.write(`man-fer setup: the venv takes ${du}\n`)

  run(['synth', '--out', 'faces', '--train', '24', '--test', '12', '--size', '32'], 'man-fer synth')
  const trained = run(
    ['train', '--data', 'faces', '--epochs', '1', '--warmup', '1', '--batch-size', '8', '--image-size', '32', '--device', 'cpu', '--out', 'run', '--json'],
    'man-fer train',
  )
  const result = JSON.parse(trained.out.trim().split('\n').pop())
  if (result.type !== 'result' || result.epochsCompleted !== 1) fail(`the training did not complete one epoch: ${trained.out.slice(-500)}`)
  const info = JSON.parse(run(['info', '--json'], 'man-fer info').out.trim().split('\n').pop())
  if (info.libtorch?.source !== 'man-fer setup') fail(`man-fer info uses ${info.libtorch?.source}, not the setup venv`)
  process.stdout.write(`one epoch on 24 synthetic faces with the setup's torch: ${trained.seconds.toFixed(0)} s, test accuracy ${result.lastTestAccuracy}\n`)
}
const keep = process.argv.includes('--keep')
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts })
const step = (msg) => process.stderr.write(`pack:check: ${msg}\n`)
const fail = (msg) => {
  process.stderr.write(`pack:check: FAILED: ${msg}\n`)
  process.exit(1)
}

const libtorch = sh('bash', ['-c', 'source scripts/libtorch-env.sh && man_find_libtorch'], { cwd: root }).trim()
if (process.argv.includes('--no-build')) {
  step('using the addon and TypeScript already built (--no-build)')
} else {
  step('building the addon and the TypeScript')
  sh('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
}

const work = mkdtempSync(join(tmpdir(), 'man-fer-pack-check-'))
try {
  const packed = JSON.parse(sh('node', ['--import=tsx', join(root, 'scripts/pack.mjs'), join(work, 'tarballs')], { cwd: root }))
  const kib = (p) => `${(packed.sizes[p] / 1024).toFixed(1)} KiB`
  process.stdout.write(`tarball ${packed.main.split('/').pop()}: ${kib(packed.main)}\n`)
  process.stdout.write(`tarball ${packed.platform.split('/').pop()}: ${kib(packed.platform)}\n`)

  const listing = sh('tar', ['tzf', packed.main]).split('\n').filter(Boolean)
  const unwanted = listing.filter((f) => /\.(rs|node)$|Cargo\.(toml|lock)$|__test__|\/crates\/|\/ts\/|\.spec\./.test(f))
  if (unwanted.length) fail(`main tarball ships files users do not need: ${unwanted.join(', ')}`)
  const reportAssets = ['charts.js', 'table.js', 'report.css'].map((f) => `package/dist/report/assets/${f}`).filter((f) => !listing.includes(f))
  if (reportAssets.length) fail(`main tarball lacks the report page's files: ${reportAssets.join(', ')}`)

  const app = join(work, 'app')
  sh('mkdir', ['-p', app])
  const platformName = packed.platformPackage
  writeFileSync(join(app, 'package.json'), JSON.stringify({
    name: 'man-fer-pack-check-app',
    private: true,
    type: 'module',
    dependencies: { 'man-fer': `file:${packed.main}` },
    overrides: { [platformName]: `file:${packed.platform}` },
  }, null, 2))
  step('installing the tarballs into a new project (no registry needed for them)')
  sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app })

  const ls = sh('npm', ['ls', '--all', platformName], { cwd: app })
  process.stdout.write(ls)
  if (!new RegExp(`man-fer@[^\\n]*\\n[^\\n]*${platformName}@`).test(ls)) fail(`npm ls does not show ${platformName} under man-fer`)

  const rustArtefacts = []
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (/\.(rs|rlib|rmeta|d)$|^Cargo\.(toml|lock)$/.test(e.name) || p.includes('/target/release/')) rustArtefacts.push(p)
    }
  }
  walk(join(app, 'node_modules', 'man-fer'))
  walk(join(app, 'node_modules', platformName))
  if (rustArtefacts.length) fail(`Rust build artefacts installed: ${rustArtefacts.join(', ')}`)

  const env = { ...process.env, MAN_LIBTORCH: libtorch }
  delete env.LD_LIBRARY_PATH
  writeFileSync(join(app, 'esm.mjs'), [
    "import { train, loadModel, coDivide, runtimeInfo } from 'man-fer'",
    "for (const [n, f] of Object.entries({ train, loadModel, coDivide })) if (typeof f !== 'function') throw new Error(n + ' is not exported')",
    "const r = coDivide(Int32Array.from([0, 1, 2]), Int32Array.from([0, 0, 1]), Int32Array.from([0, 1, 0]))",
    "console.log(JSON.stringify({ esm: true, torch: runtimeInfo().torchVersion, counts: [r.clean, r.ambiguous, r.noisy] }))",
  ].join('\n'))
  process.stdout.write(sh('node', ['esm.mjs'], { cwd: app, env }))

  writeFileSync(join(app, 'cjs.cjs'), [
    "const m = require('man-fer')",
    "if (typeof m.train !== 'function') throw new Error('train missing')",
    "console.log(JSON.stringify({ cjs: true, exports: Object.keys(m).length }))",
  ].join('\n'))
  process.stdout.write(sh('node', ['cjs.cjs'], { cwd: app, env }))

  writeFileSync(join(app, 'check.ts'), [
    "import { train, loadModel, coDivide, defineConfig, type TrainResult } from 'man-fer'",
    "const config = defineConfig({ data: { path: 'faces' }, train: { epochs: 2 } })",
    "const run: Promise<TrainResult> = train(config)",
    "void run; void loadModel; void coDivide",
  ].join('\n'))
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: [] },
    files: ['check.ts'],
  }))
  const tsc = spawnSync(join(root, 'node_modules/.bin/tsc'), ['-p', app], { encoding: 'utf8' })
  if (tsc.status !== 0) fail(`the shipped types do not type-check a user's file:\n${tsc.stdout}${tsc.stderr}`)
  process.stdout.write('typescript: check.ts type-checks against the shipped .d.ts\n')

  const info = sh('npx', ['--no-install', 'man-fer', 'info', '--json'], { cwd: app, env })
  process.stdout.write(info)
  if (!JSON.parse(info.trim().split('\n').pop()).torchVersion?.startsWith('2.11.0')) fail('man-fer info did not report torch 2.11.0')

  const noTorchEnv = { ...env }
  delete noTorchEnv.MAN_LIBTORCH
  delete noTorchEnv.LIBTORCH
  const noTorch = spawnSync('npx', ['--no-install', 'man-fer', 'info'], { cwd: app, env: noTorchEnv, encoding: 'utf8' })
  process.stdout.write(`without libtorch: exit ${noTorch.status}, stderr: ${noTorch.stderr}`)
  if (noTorch.status === 0) {
    step('skipped the missing-libtorch check: the python3 on PATH has torch 2.11.0')
  } else if (!noTorch.stderr.includes('Install it with: npx man-fer setup') || /\n\s+at /.test(noTorch.stderr)) {
    fail('the missing-libtorch error does not give the install command in one clear line')
  }

  if (process.argv.includes('--no-setup')) step('skipped man-fer setup and the training on it (--no-setup)')
  else setupAndTrain(app, noTorchEnv, noTorch.status === 0)

  step(`removing ${platformName} to check the error`)
  rmSync(join(app, 'node_modules', platformName), { recursive: true })
  const noBinary = spawnSync('npx', ['--no-install', 'man-fer', 'info'], { cwd: app, env, encoding: 'utf8' })
  process.stdout.write(`without the platform package: exit ${noBinary.status}, stderr: ${noBinary.stderr}`)
  if (noBinary.status !== 1) fail('expected exit 1 without the platform package')
  if (!noBinary.stderr.includes(`no prebuilt binary for ${packed.triple}`)) fail('missing "no prebuilt binary" message')
  if (/\n\s+at /.test(noBinary.stderr)) fail('a stack trace was printed')
  process.stdout.write('pack:check passed\n')
} finally {
  if (keep) step(`kept ${work}`)
  else rmSync(work, { recursive: true, force: true })
}
