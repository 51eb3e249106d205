/** man-fer: train facial-expression classifiers on noisy labels with MAN. */
export { runtimeInfo, selfTest, type RuntimeInfo, type SelfTestOptions } from './runtime.ts'
export {
  ManError,
  ConfigError,
  LibtorchError,
  NoBinaryError,
  type ManErrorCode,
} from './errors.ts'
export type { DatasetIndex, DatasetSplit, Split } from './data/types.ts'
