/**
 * The contract between TypeScript and the native addon. Every shape here is
 * taken from `native.generated.d.ts`, which `napi build` writes from the Rust
 * declarations (crates/man-node, and man-core's `napi` types), doc comments
 * included. That file is committed: a fresh clone type-checks before any
 * build, and a Rust change that TypeScript does not follow makes
 * `npm run typecheck` fail, here, in its users or in the fake binding
 * (`__test__/fake-binding.ts`), which implements the same `Binding`.
 * (`typecheck` also checks the generated file on its own, without Node's
 * types, as a user sees it: `skipLibCheck` would turn a name it cannot
 * resolve into `any` without a word.)
 * Tensors never cross this boundary: only sample indices, labels, partition
 * codes, numbers and typed arrays.
 *
 * Errors thrown by the addon carry a message of the form
 * `ERR_MAN_<KIND>: <what happened, naming the file or argument>`; `callNative`
 * in ./errors.ts turns that prefix into `err.code`.
 */
import type * as Native from '../../native.generated.js'

export type {
  BindingBatch,
  BindingDatasetOptions,
  BindingDecodeFailure,
  BindingLossWeights,
  BindingNextBatch,
  BindingPrediction,
  BindingRuntimeInfo,
  BindingStepResult,
  BindingTrainerOptions,
  BindingWeightsReport,
} from '../../native.generated.js'

/** Images held by the addon. */
export type BindingDataset = Native.Dataset
/** The two networks and their optimiser. */
export type BindingTrainer = Native.Trainer
/** Which augmentation pipeline of docs/method.md produces a batch. */
export type BindingView = Parameters<Native.Dataset['views']>[1]

/** The addon's exports as the package uses them: its functions, and the factories of its two classes. */
export type Binding = Omit<typeof Native, 'Dataset' | 'Trainer' | 'Partition'> & {
  Dataset: Pick<typeof Native.Dataset, 'fromPaths' | 'fromBuffers'>
  Trainer: Pick<typeof Native.Trainer, 'create'>
}

/**
 * The generated `Partition` enum's values at run time (a `const enum` in a
 * declaration file has none). Checked against it below, names and values.
 */
export const Partition = { Clean: 0, Ambiguous: 1, Noisy: 2 } as const

type Spelled<E> = { [K in keyof E]: `${E[K] & number}` }
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Expect<T extends true> = T
/** Does not compile when `Partition` and the generated enum differ in a name or a value. */
export type PartitionMatchesTheAddon = Expect<Same<Spelled<typeof Partition>, Spelled<typeof Native.Partition>>>

export const PARTITION_CLEAN = Partition.Clean
export const PARTITION_AMBIGUOUS = Partition.Ambiguous
export const PARTITION_NOISY = Partition.Noisy
