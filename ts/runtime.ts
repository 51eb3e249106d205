/** What man-fer runs on. */
import { callNativeSync } from './errors.ts'
import { getBinding } from './native/index.ts'

export interface RuntimeInfo {
  /** libtorch version the addon was built against (the loader checks the loaded one matches). */
  torchVersion: string
  cudaAvailable: boolean
  cudaDeviceCount: number
  /** libtorch intra-op threads. */
  threads: number
  addonVersion: string
}

export function runtimeInfo(): RuntimeInfo {
  return callNativeSync(() => getBinding().runtimeInfo())
}
