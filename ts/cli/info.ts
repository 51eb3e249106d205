/** `man-fer info`: the runtime man-fer would train on. */
import { cpus } from 'node:os'

import { findLibtorch, realProbe } from '../native/libtorch.ts'
import { PACKAGE_ROOT } from '../native/loader.ts'
import { runtimeInfo } from '../runtime.ts'
import type { Output } from './output.ts'

export async function infoCommand(out: Output): Promise<void> {
  const info = runtimeInfo()
  const libtorch = findLibtorch(realProbe([PACKAGE_ROOT, process.cwd()]))
  const device = info.cudaAvailable ? 'cuda:0' : 'cpu'
  const result = {
    type: 'info',
    ...info,
    device,
    libtorch: { dir: libtorch.dir, source: libtorch.source, version: libtorch.version },
    cpuCores: cpus().length,
    node: process.version,
  }
  if (out.json) {
    out.event(result)
    return
  }
  out.data(`man-fer ${info.addonVersion}`)
  out.data(`libtorch ${libtorch.version} (${libtorch.source}: ${libtorch.dir})`)
  out.data(`device   ${device}${info.cudaAvailable ? ` (${info.cudaDeviceCount} CUDA device(s))` : ''}`)
  out.data(`threads  ${info.threads} libtorch threads, ${result.cpuCores} CPU cores`)
  out.data(`node     ${process.version}`)
}
