/** What the benchmark ran on, stated with every result. */
import os from 'node:os'

import type { Binding } from '../../ts/native/binding.ts'

export interface Machine {
  cpuModel: string
  /** Cores this process may use. */
  cores: number
  memoryGiB: number
  /** 1-minute load average at the start: above the core count, other work shares the CPUs. */
  loadAverage: number
  platform: string
  node: string
  torch: string
  cudaAvailable: boolean
  cudaDevices: number
  torchThreads: number
  gpu: string | null
}

export function describeMachine(binding: Binding, gpu: string | null): Machine {
  const info = binding.runtimeInfo()
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    torch: info.torchVersion,
    cudaAvailable: info.cudaAvailable,
    cudaDevices: info.cudaDeviceCount,
    torchThreads: info.threads,
    gpu,
  }
}
