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
export {
  configSchema,
  configOptions,
  defineConfig,
  resolveConfig,
  presets,
  type ConfigInput,
  type ConfigOption,
  type ManConfig,
  type PresetName,
} from './config/index.ts'
export { train, resumeTrain } from './train/train.ts'
export type {
  BatchInfo,
  BestEpoch,
  CallbackControl,
  EpochPhase,
  EpochSummary,
  EpochTimings,
  LossSummary,
  PretrainedReport,
  TrainOptions,
  TrainResult,
} from './train/types.ts'
export type { SplitEvaluation, Scores, ClassScore } from './train/evaluation.ts'
export { coDivide, type CoDivision } from './train/co-division.ts'
export { lambdaAt, lrAt, isWarmup, type LambdaOptions, type LrOptions } from './train/schedule.ts'
export { readPartition, type Partition, type PartitionCounts } from './train/run-dir.ts'
export { PARTITION_CLEAN, PARTITION_AMBIGUOUS, PARTITION_NOISY } from './native/binding.ts'
export { loadModel, evaluate, type Model, type ImagePrediction, type LoadModelOptions, type Evaluation } from './model.ts'
export { exportOnnx, type ExportOnnxOptions, type OnnxExport } from './onnx/export.ts'
export type { OnnxModelInfo, OnnxNetwork } from './onnx/metadata.ts'
export {
  loadDataset,
  DatasetError,
  RAFDB_CLASSES,
  FERPLUS_CLASSES,
  FERPLUS_VOTE_NAMES,
  ferplusMajority,
  AFFECTNET_CLASSES,
  type DatasetFormat,
  type LoadDatasetOptions,
  type LoadedDataset,
} from './data/index.ts'
export { applyNoiseFile, type RelabelledDataset } from './data/noise-labels.ts'
export { injectNoise, noiseDetection, flippedMask, type InjectedNoise, type NoiseDetection } from './data/noise.ts'
export { synthesize, EXPRESSION_NAMES, type SynthesizeOptions, type SynthesisSummary } from './synth/index.ts'
export * as losses from './losses.ts'
export { writeReport, REPORT_FILE, type ReportOptions, type ReportResult } from './report/index.ts'
export { readTrainPredictions, type TrainPredictions } from './report/predictions.ts'
