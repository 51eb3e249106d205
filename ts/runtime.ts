/** What man-fer runs on. */
import { callNative, callNativeSync } from './errors.ts'
import { getBinding } from './native/index.ts'

export interface RuntimeInfo {
  /** libtorch version the addon was built against (the loader checks the loaded one matches). */
  torchVersion: string
  cudaAvailable: boolean
  cudaDeviceCount: number
  /** libtorch intra-op threads. */
  threads: number
  addonVersion: string
  /** The CPU has AMX with bf16 / AVX-512 BF16: what runtime.precision 'auto' looks at. */
  cpuAmxBf16: boolean
  cpuAvx512Bf16: boolean
  /** What runtime.precision 'auto' computes in on the CPU: 'fp32' or 'bf16'. */
  cpuAutoPrecision: string
}

export function runtimeInfo(): RuntimeInfo {
  return callNativeSync(() => getBinding().runtimeInfo())
}

export interface SelfTestOptions {
  batch?: number
  size?: number
  classes?: number
  seed?: number
}

/**
 * Proves the installation works end to end: one ResNet-18 forward and backward
 * pass on a random CPU batch, off the JavaScript thread. Resolves to the loss.
 */
export async function selfTest(options: SelfTestOptions = {}): Promise<number> {
  const { batch = 2, size = 64, classes = 7, seed = 0 } = options
  return callNative(() => getBinding().resnetSmoke(batch, size, classes, seed))
}
