/**
 * The contract between TypeScript and the native addon (crates/man-node).
 * The real addon and the fake binding used in tests both implement it, so the
 * two cannot drift apart silently. Tensors never cross this boundary: only
 * sample indices, labels, partition codes, numbers and typed arrays.
 *
 * Errors thrown by the addon carry a message of the form
 * `ERR_MAN_<KIND>: <what happened, naming the file or argument>`; `callNative`
 * in ./errors.ts turns that prefix into `err.code`.
 */

export interface BindingRuntimeInfo {
  /** libtorch version the addon was compiled against, e.g. "2.11.0". */
  torchVersion: string
  cudaAvailable: boolean
  cudaDeviceCount: number
  /** libtorch intra-op threads. */
  threads: number
  addonVersion: string
}

/** Partition codes used by co-division and the co-division step. */
export const PARTITION_CLEAN = 0
export const PARTITION_AMBIGUOUS = 1
export const PARTITION_NOISY = 2

/** Which augmentation pipeline of METHOD.md produces a batch. */
export type BindingView = 'test' | 'weak' | 'strong'

export interface BindingDatasetOptions {
  /** Output height and width of every view, in pixels. */
  imageSize: number
  /** Views are a pure function of (seed, epoch, sample index, view). */
  seed: number
  /** Budget for decoded pixels kept in memory; beyond it images are decoded again. */
  cacheBytes: number
  /** Pipeline worker threads; 0 = all cores. */
  threads: number
}

export interface BindingDecodeFailure {
  index: number
  path: string
  /** `ERR_MAN_IO: ...` or `ERR_MAN_DECODE: ...` */
  message: string
}

/** Images held by the addon: paths (decoded lazily, cached) or encoded buffers. */
export interface BindingDataset {
  readonly length: number
  /** Images decoded so far (cache misses); `length` once every image was decoded exactly once. */
  readonly decodeCount: number
  /** Decodes every image once (filling the cache); lists the ones that failed instead of throwing. */
  scan(): Promise<BindingDecodeFailure[]>
  /**
   * Normalised float32 NCHW pixels of the given samples
   * (length = indices.length × 3 × imageSize × imageSize). For tests and benchmarks.
   */
  views(indices: Uint32Array, view: BindingView, epoch: number): Promise<Float32Array>
}

export interface BindingDatasetStatic {
  fromPaths(paths: string[], options: BindingDatasetOptions): BindingDataset
  /** `names` label each buffer in error messages. */
  fromBuffers(buffers: Uint8Array[], names: string[], options: BindingDatasetOptions): BindingDataset
}

export interface BindingTrainerOptions {
  numClasses: number
  /** 'auto' | 'cpu' | 'cuda' | 'cuda:N' */
  device: string
  /** libtorch intra-op threads; 0 = libtorch's default. */
  threads: number
  /** Seeds the initial weights (and any other randomness of the trainer). */
  seed: number
  lr: number
  beta1: number
  beta2: number
  eps: number
  /** Coupled (torch.optim.Adam) weight decay. */
  weightDecay: number
  /** bf16 autocast on CUDA; ignored on CPU. */
  mixedPrecision: boolean
}

export interface BindingStepResult {
  /** Total loss that was back-propagated. */
  loss: number
  /** Warm-up / CE step: ½(CE1+CE2). Co-division step: Lc. */
  lossClean: number
  /** La (before ω); 0 for warm-up steps or an empty subset. */
  lossAmbiguous: number
  /** Ln (before γ); 0 for warm-up steps or an empty subset. */
  lossNoisy: number
  clean: number
  ambiguous: number
  noisy: number
  /** Samples of the batch whose label f1 / f2 predicted (on the training view). */
  correct1: number
  correct2: number
  /** Milliseconds the step waited for its views (building them, or for the ones built ahead). */
  dataMs: number
  /** Milliseconds of tensor work: forward, backward, Adam, reading the numbers back. */
  computeMs: number
}

export interface BindingPrediction {
  /** argmax of f1 per requested sample, in the order of `indices`. */
  pred1: Int32Array
  pred2: Int32Array
  /** Ensemble softmax (mean of the two networks' logits, then softmax), N×C row-major; null unless asked. */
  probs: Float32Array | null
}

export interface BindingWeightsReport {
  loaded: string[]
  /** Tensors present in the file but not used (head tensors of another shape, unknown names). */
  skipped: string[]
  /** Backbone tensors the file lacks (empty, or loading fails). */
  missing: string[]
}

export interface BindingTrainer {
  /** The device in use, e.g. "cpu" or "cuda:0". */
  readonly device: string
  setLr(lr: number): void
  /** Loads one backbone into both networks (safetensors, torch.save zip or legacy pickle). */
  loadPretrained(path: string): Promise<BindingWeightsReport>
  /**
   * L = ½(CE(f1(x), y) + CE(f2(x), y)) on weak views; one Adam step. Also the `ce` baseline's step.
   * `nextIndices`, when given, is the batch the next step will ask for (same dataset and epoch): its
   * views are built while this step trains. Any later request is still right, only not prepared.
   */
  warmupStep(
    dataset: BindingDataset,
    indices: Uint32Array,
    labels: Int32Array,
    epoch: number,
    nextIndices?: Uint32Array | null,
  ): Promise<BindingStepResult>
  /**
   * L = Lc + ω·La + γ·Ln with per-subset forward passes; one Adam step. `codes` holds PARTITION_* per sample.
   * `nextIndices`/`nextCodes`: the next co-division batch, prepared while this step trains (see warmupStep).
   */
  coDivisionStep(
    dataset: BindingDataset,
    indices: Uint32Array,
    labels: Int32Array,
    codes: Uint8Array,
    epoch: number,
    lambda: number,
    omega: number,
    gamma: number,
    nextIndices?: Uint32Array | null,
    nextCodes?: Uint8Array | null,
    /** true: the consistency term's weak-view softmax is a fixed target (no gradient). */
    detachWeak?: boolean,
    /** true: one forward pass per network over the whole batch and the strong views, instead of one per subset. */
    joint?: boolean,
  ): Promise<BindingStepResult>
  /** Eval mode, no gradient, batches of `batchSize`. */
  predict(
    dataset: BindingDataset,
    indices: Uint32Array,
    view: BindingView,
    epoch: number,
    batchSize: number,
    withProbs: boolean,
  ): Promise<BindingPrediction>
  /**
   * Test-only: row-major N×C float32 logits of network `network` (0 = f1, 1 = f2)
   * on the views `Dataset.views` returns, in train or eval mode, without
   * gradient. A train-mode pass updates BatchNorm running statistics. For
   * parity checks against a reference implementation.
   */
  debugLogits(
    dataset: BindingDataset,
    indices: Uint32Array,
    view: BindingView,
    epoch: number,
    network: number,
    train: boolean,
  ): Promise<Float32Array>
  /** Both networks, Adam state and `metadata` (a JSON string), as safetensors, atomically. */
  save(path: string, metadata: string): Promise<void>
  /** Restores what `save` wrote; returns the metadata JSON string. */
  load(path: string): Promise<string>
}

export interface BindingTrainerStatic {
  create(options: BindingTrainerOptions): BindingTrainer
}

/** Loss functions on given logits (row-major rows×cols), computed in float64. */
export interface BindingLosses {
  lossCrossEntropy(logits: Float64Array, rows: number, cols: number, labels: Int32Array): Promise<number>
  /** METHOD.md's KL(pred‖target) = mean_i Σ_c softmax(target)·(log softmax(target) − log softmax(pred)). */
  lossKl(pred: Float64Array, target: Float64Array, rows: number, cols: number): Promise<number>
  lossMutual(logits1: Float64Array, logits2: Float64Array, rows: number, cols: number, labels: Int32Array, lambda: number): Promise<number>
  lossConsistency(weak: Float64Array, strong: Float64Array, rows: number, cols: number): Promise<number>
}

export interface Binding extends BindingLosses {
  runtimeInfo(): BindingRuntimeInfo
  setThreads(threads: number): void
  /** Returns memory the C allocator holds but no longer uses to the system (glibc's malloc_trim); true if it released any. */
  releaseMemory(): boolean
  /** ResNet-18 forward+backward on a random batch; resolves to the loss. */
  resnetSmoke(batch: number, size: number, classes: number, seed: number): Promise<number>
  /** Rejects from a deliberate panic inside a task (proves panics do not abort). */
  debugPanic(): Promise<number>
  Dataset: BindingDatasetStatic
  Trainer: BindingTrainerStatic
}
