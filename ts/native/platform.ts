/**
 * The one place that names platforms: the prebuilt targets are package.json's
 * `napi.targets` (the list the napi CLI builds and publishes), and each
 * platform's addon lives in the package `man-fer-<platform>` as
 * `man-fer.<platform>.node`, with napi-rs's names (`linux-x64-gnu`, ...).
 * The loader uses it at run time; the release scripts import it through tsx.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package root: two levels above this file, in ts/native and in dist/native alike. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

const ARCH: Record<string, string> = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' }
const OS: Record<string, string> = { linux: 'linux', darwin: 'darwin', windows: 'win32', freebsd: 'freebsd' }

/** napi-rs's platform name of a Rust target triple: 'x86_64-unknown-linux-gnu' → 'linux-x64-gnu'. */
export function platformOfTarget(target: string): string {
  const parts = target.split('-')
  const arch = ARCH[parts[0]!]
  const os = parts.map((p) => OS[p]).find((p) => p !== undefined)
  const abi = parts[3]
  if (arch === undefined || os === undefined) throw new Error(`unknown target triple '${target}' in package.json napi.targets`)
  return abi === undefined ? `${os}-${arch}` : `${os}-${arch}-${abi}`
}

/** The platform this process runs on, in the same naming (Linux is assumed to be glibc). */
export function hostPlatform(platform: string = process.platform, arch: string = process.arch): string {
  if (platform === 'linux') return `linux-${arch}-gnu`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/** The platforms with a prebuilt binary package, from package.json `napi.targets`. */
export function prebuiltPlatforms(root: string = PACKAGE_ROOT): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { napi?: { targets?: string[] } }
  return (manifest.napi?.targets ?? []).map(platformOfTarget)
}

/** The npm package holding a platform's addon. */
export function platformPackage(platform: string): string {
  return `man-fer-${platform}`
}

/** The addon's file name, in its platform package and in a source checkout's root alike. */
export function addonFile(platform: string): string {
  return `man-fer.${platform}.node`
}
