/** `man-fer info`: the runtime man-fer would train on. */
import { cpus } from 'node:os'

import { findLibtorch, realProbe } from '../native/libtorch.ts'
import { PACKAGE_ROOT } from '../native/loader.ts'
import { runtimeInfo } from '../runtime.ts'
import { jsonFlag, parseArgs, renderHelp } from './args.ts'
import type { Output } from './output.ts'

export function infoHelp(): string {
  return renderHelp('man-fer info [--json]', 'The runtime man-fer would train on: libtorch, device, threads.', [jsonFlag])
}

export async function infoCommand(argv: string[], out: Output): Promise<number> {
  if (parseArgs(argv, [jsonFlag]).help) {
    out.data(infoHelp())
    return 0
  }
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
    return 0
  }
  out.data(`man-fer ${info.addonVersion}`)
  out.data(`libtorch ${libtorch.version} (${libtorch.source}: ${libtorch.dir})`)
  out.data(`device   ${device}${info.cudaAvailable ? ` (${info.cudaDeviceCount} CUDA device(s))` : ''}`)
  out.data(`threads  ${info.threads} libtorch threads, ${result.cpuCores} CPU cores`)
  const bf16 = [info.cpuAmxBf16 && 'AMX-BF16', info.cpuAvx512Bf16 && 'AVX-512-BF16'].filter(Boolean).join(', ')
  out.data(`cpu bf16 ${bf16 || 'none (no AMX, no AVX-512-BF16)'}; runtime.precision 'auto' computes in ${info.cpuAutoPrecision} on the CPU`)
  out.data(`node     ${process.version}`)
  return 0
}
