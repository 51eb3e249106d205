/**
 * A deterministic stand-in for the native addon, implementing the same
 * `Binding` interface. Its "weights" are one 32-bit state that every training
 * step folds its inputs into; predictions are pseudo-random functions of that
 * state, the sample and the view. It records every call, and save/load write
 * a real (tensor-less) safetensors file, so resume can be tested end to end.
 * It computes no losses: the specs of the loss functions run on the addon.
 */
import { promises as fs } from 'node:fs'

import { writeFileAtomic } from '../ts/data/atomic-write.ts'
import { CHECKPOINT_METADATA_KEY } from '../ts/train/checkpoint.ts'
import { decodeSafetensors, encodeSafetensors } from '../ts/util/safetensors.ts'

import type {
  Binding,
  BindingBatch,
  BindingDataset,
  BindingDatasetOptions,
  BindingDecodeFailure,
  BindingLossWeights,
  BindingNextBatch,
  BindingPrediction,
  BindingRuntimeInfo,
  BindingStepResult,
  BindingDistEnv,
  BindingProcessGroup,
  BindingTrainer,
  BindingTrainerOptions,
  BindingView,
  BindingWeightsReport,
} from '../ts/native/binding.ts'
import { Partition } from '../ts/native/binding.ts'
import { isCounter, isHead, resnet18StateDictNames } from './helpers/resnet18-names.ts'

function mix(h: number, v: number): number {
  h = Math.imul(h ^ (v >>> 0), 0x01000193) >>> 0
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d) >>> 0
  h ^= h >>> 12
  return h >>> 0
}

function hashString(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return h
}

function floatBits(x: number): number {
  const f = new Float64Array([x])
  const u = new Uint32Array(f.buffer)
  return (u[0]! ^ u[1]!) >>> 0
}

const VIEW_CODE: Record<BindingView, number> = { test: 1, weak: 2, strong: 3 }

export interface FakeBindingOptions {
  /** The true class of an image (by its name), so that predictions can be right more often than chance. */
  classOf?: (name: string) => number | undefined
  /** Probability that f1 and f2 predict the true class, when known. */
  skill?: [number, number]
  /** Per epoch, overrides `skill` (networks that learn, or stop learning, as epochs pass). */
  skillAt?: (epoch: number) => [number, number]
  /** Names that scan() reports as undecodable. */
  failing?: (name: string) => boolean
  /** What the weights file given to loadPretrained holds (it is never read). */
  weightsFile?: FakeWeightsFile
  /** loadPretrained's answer, in place of the one the addon would give for `weightsFile`. */
  weightsReport?: BindingWeightsReport
}

/** A torchvision ResNet-18 state dict as a user may have it. */
export interface FakeWeightsFile {
  /** Classes of the file's `fc` head; null when it has none. Default 1000 (ImageNet). */
  headClasses?: number | null
  /** Whether BatchNorm's `num_batches_tracked` counters are stored (torch.save: yes). Default true. */
  counters?: boolean
  /** Backbone tensors the file lacks: loadPretrained fails naming them, as the addon does. */
  missing?: string[]
}

export interface FakeStep {
  trainer: number
  kind: 'warmup' | 'co-division'
  dataset: number
  epoch: number
  indices: number[]
  labels: number[]
  codes: number[] | null
  lambda: number | null
  omega: number | null
  gamma: number | null
  /** Co-division steps: whether the consistency term's weak view was a fixed target. */
  detachWeak: boolean | null
  /** Co-division steps: one forward pass per network over the whole batch. */
  joint: boolean | null
  /** Co-division steps: each subset's term weighted by its share of the batch. */
  batchShare: boolean | null
  /** Co-division steps: the pseudo-label threshold of the noisy term (null: consistency). */
  pseudoThreshold: number | null
  lr: number
  /** The batch announced as next (prepared ahead by the real addon); null when none was. */
  next: { indices: number[]; codes: number[] | null } | null
}

export interface FakeCall {
  method: string
  trainer?: number
  dataset?: number
  detail?: Record<string, unknown>
}

export class FakeDataset implements BindingDataset {
  readonly nameHashes: Uint32Array
  constructor(
    readonly fake: FakeBinding,
    readonly id: number,
    readonly names: string[],
    readonly options: BindingDatasetOptions,
  ) {
    this.nameHashes = Uint32Array.from(names, hashString)
  }

  get length(): number {
    return this.names.length
  }

  /** The fake decodes nothing; it reports what a cache holding every image would. */
  decodeCount = 0

  async scan(): Promise<BindingDecodeFailure[]> {
    this.fake.calls.push({ method: 'scan', dataset: this.id })
    this.decodeCount = this.names.length
    const failing = this.fake.options.failing
    if (failing === undefined) return []
    const out: BindingDecodeFailure[] = []
    this.names.forEach((name, index) => {
      if (failing(name)) out.push({ index, path: name, message: `ERR_MAN_DECODE: ${name}: not an image` })
    })
    return out
  }

  async views(indices: Uint32Array, view: BindingView, epoch: number): Promise<Float32Array> {
    this.checkIndices(indices)
    const s = this.options.imageSize
    const per = 3 * s * s
    const out = new Float32Array(indices.length * per)
    for (let i = 0; i < indices.length; i++) {
      let h = mix(mix(this.options.seed, epoch), mix(VIEW_CODE[view], this.nameHashes[indices[i]!]!))
      for (let j = 0; j < per; j++) {
        h = mix(h, j)
        out[i * per + j] = h / 4294967296 - 0.5
      }
    }
    return out
  }

  checkIndices(indices: Uint32Array): void {
    for (const i of indices) {
      if (i >= this.names.length) throw new Error(`ERR_MAN_SHAPE: sample index ${i} out of range (dataset of ${this.names.length})`)
    }
  }
}

interface FakeState {
  weights: number
  steps: number
  lr: number
}

export class FakeTrainer implements BindingTrainer {
  readonly device: string
  state: FakeState

  constructor(
    readonly fake: FakeBinding,
    readonly id: number,
    readonly options: BindingTrainerOptions,
  ) {
    this.device = options.device === 'auto' ? 'cpu' : options.device
    this.state = { weights: mix(0x1234567, options.seed), steps: 0, lr: options.lr }
  }

  setLr(lr: number): void {
    if (!(lr > 0)) throw new Error(`ERR_MAN_CONFIG: lr must be positive, got ${lr}`)
    this.fake.calls.push({ method: 'setLr', trainer: this.id, detail: { lr } })
    this.state.lr = lr
  }

  async loadPretrained(path: string): Promise<BindingWeightsReport> {
    this.fake.calls.push({ method: 'loadPretrained', trainer: this.id, detail: { path } })
    const report = this.fake.options.weightsReport ?? this.weightsReport(path, this.fake.options.weightsFile ?? {})
    this.state.weights = mix(this.state.weights, hashString(path))
    return report
  }

  /** What crates/man-core/src/weights/apply.rs reports for such a file, or the error it raises. */
  private weightsReport(path: string, file: FakeWeightsFile): BindingWeightsReport {
    const headClasses = file.headClasses === undefined ? 1000 : file.headClasses
    const missing = new Set(file.missing ?? [])
    const names = resnet18StateDictNames().filter(
      (n) => !missing.has(n) && (file.counters !== false || !isCounter(n)) && (headClasses !== null || !isHead(n)),
    )
    if (missing.size > 0) {
      const problems = [...missing].sort().map((n) => `${n} is missing from the file`)
      throw new Error(`ERR_MAN_WEIGHTS: ${path}: pretrained weights do not fit the backbone (${problems.length} problems): ${problems.join('; ')}`)
    }
    const headFits = headClasses === this.options.numClasses
    const used = (n: string) => !isCounter(n) && (headFits || !isHead(n))
    return {
      loaded: names.filter(used),
      skipped: names.filter((n) => !used(n)),
      headInitialised: headFits ? [] : ['fc.bias', 'fc.weight'],
    }
  }

  /** f1's (net 0) or f2's (net 1) prediction for one sample under the current weights. */
  predictOne(ds: FakeDataset, index: number, view: BindingView, epoch: number, net: number): number {
    const k = this.options.numClasses
    const h = mix(mix(this.state.weights, epoch), mix(VIEW_CODE[view] * 2 + net, ds.nameHashes[index]!))
    const truth = this.fake.options.classOf?.(ds.names[index]!)
    const skill = this.fake.options.skillAt?.(epoch) ?? this.fake.options.skill ?? [0.6, 0.5]
    if (truth !== undefined && (h % 1000) / 1000 < skill[net]!) return truth
    return mix(h, 77) % k
  }

  private step(
    kind: FakeStep['kind'],
    dataset: BindingDataset,
    batch: BindingBatch,
    weights: BindingLossWeights | null,
    next: BindingNextBatch | null | undefined,
  ): BindingStepResult {
    const ds = this.fake.asFake(dataset)
    const { epoch, indices, labels } = batch
    // A warm-up step ignores codes, as the addon does.
    const codes = kind === 'co-division' ? (batch.codes ?? null) : null
    ds.checkIndices(indices)
    if (labels.length !== indices.length || (codes !== null && codes.length !== indices.length)) {
      throw new Error(`ERR_MAN_SHAPE: ${indices.length} indices, ${labels.length} labels, ${codes?.length ?? '-'} codes`)
    }
    const lambda = weights?.lambda ?? null
    this.fake.steps.push({
      trainer: this.id,
      kind,
      dataset: ds.id,
      epoch,
      indices: Array.from(indices),
      labels: Array.from(labels),
      codes: codes === null ? null : Array.from(codes),
      lambda,
      omega: weights?.omega ?? null,
      gamma: weights?.gamma ?? null,
      detachWeak: weights?.detachWeak ?? null,
      joint: weights?.joint ?? null,
      batchShare: weights?.batchShare ?? null,
      pseudoThreshold: weights?.pseudoThreshold ?? null,
      lr: this.state.lr,
      next: next == null ? null : { indices: Array.from(next.indices), codes: next.codes == null ? null : Array.from(next.codes) },
    })
    let correct1 = 0
    let correct2 = 0
    for (let i = 0; i < indices.length; i++) {
      if (this.predictOne(ds, indices[i]!, 'weak', epoch, 0) === labels[i]) correct1++
      if (this.predictOne(ds, indices[i]!, 'weak', epoch, 1) === labels[i]) correct2++
    }
    let h = mix(this.state.weights, epoch)
    for (let i = 0; i < indices.length; i++) h = mix(mix(h, ds.nameHashes[indices[i]!]!), labels[i]! + 31 * (codes?.[i] ?? 7))
    h = mix(mix(h, floatBits(this.state.lr)), floatBits(lambda ?? -1))
    this.state.weights = h
    this.state.steps++
    const counts = { clean: 0, ambiguous: 0, noisy: 0 }
    if (codes === null) counts.clean = indices.length
    else {
      for (const c of codes) {
        if (c === Partition.Clean) counts.clean++
        else if (c === Partition.Ambiguous) counts.ambiguous++
        else if (c === Partition.Noisy) counts.noisy++
        else throw new Error(`ERR_MAN_SHAPE: invalid partition code ${c}`)
      }
    }
    const lossClean = 0.5 + (mix(h, 1) % 1000) / 1000
    const lossAmbiguous = counts.ambiguous > 0 ? (mix(h, 2) % 1000) / 1000 : 0
    const lossNoisy = counts.noisy > 0 ? (mix(h, 3) % 1000) / 10000 : 0
    const loss = weights === null ? lossClean : lossClean + weights.omega * lossAmbiguous + weights.gamma * lossNoisy
    // Nominal times (¼ ms of data and 1 ms of compute per sample), so sums can be checked.
    const dataMs = 0.25 * indices.length
    const computeMs = indices.length
    return { loss, lossClean, lossAmbiguous, lossNoisy, ...counts, correct1, correct2, dataMs, computeMs }
  }

  async warmupStep(dataset: BindingDataset, batch: BindingBatch, next?: BindingNextBatch | null): Promise<BindingStepResult> {
    return this.step('warmup', dataset, batch, null, next)
  }

  async coDivisionStep(
    dataset: BindingDataset,
    batch: BindingBatch,
    weights: BindingLossWeights,
    next?: BindingNextBatch | null,
  ): Promise<BindingStepResult> {
    if (batch.codes == null) throw new Error('ERR_MAN_SHAPE: codes: a co-division step needs one partition code per sample')
    return this.step('co-division', dataset, batch, weights, next)
  }

  async predict(
    dataset: BindingDataset,
    indices: Uint32Array,
    view: BindingView,
    epoch: number,
    batchSize: number,
    withProbs: boolean,
  ): Promise<BindingPrediction> {
    const ds = this.fake.asFake(dataset)
    ds.checkIndices(indices)
    if (!(batchSize >= 1)) throw new Error(`ERR_MAN_CONFIG: batchSize must be at least 1, got ${batchSize}`)
    const k = this.options.numClasses
    const pred1 = new Int32Array(indices.length)
    const pred2 = new Int32Array(indices.length)
    const probs = withProbs ? new Float32Array(indices.length * k) : null
    for (let i = 0; i < indices.length; i++) {
      pred1[i] = this.predictOne(ds, indices[i]!, view, epoch, 0)
      pred2[i] = this.predictOne(ds, indices[i]!, view, epoch, 1)
      if (probs !== null) {
        // The ensemble leans to f1, and to f2 where f1 is unsure (odd samples).
        const winner = i % 2 === 0 ? pred1[i]! : pred2[i]!
        for (let c = 0; c < k; c++) probs[i * k + c] = c === winner ? 0.5 : 0.5 / (k - 1)
      }
    }
    this.fake.calls.push({
      method: 'predict',
      trainer: this.id,
      dataset: ds.id,
      detail: { view, epoch, withProbs, indices: Array.from(indices), pred1: Array.from(pred1), pred2: Array.from(pred2) },
    })
    return { pred1, pred2, probs }
  }

  /** Logits whose argmax is `predictOne`'s answer (train and eval mode alike). */
  async debugLogits(
    dataset: BindingDataset,
    indices: Uint32Array,
    view: BindingView,
    epoch: number,
    network: number,
    train: boolean,
  ): Promise<Float32Array> {
    const ds = this.fake.asFake(dataset)
    ds.checkIndices(indices)
    if (network !== 0 && network !== 1) throw new Error(`ERR_MAN_CONFIG: network must be 0 or 1, got ${network}`)
    const k = this.options.numClasses
    const out = new Float32Array(indices.length * k)
    for (let i = 0; i < indices.length; i++) out[i * k + this.predictOne(ds, indices[i]!, view, epoch, network)] = 1
    this.fake.calls.push({ method: 'debugLogits', trainer: this.id, dataset: ds.id, detail: { view, epoch, network, train } })
    return out
  }

  async save(path: string, metadata: string): Promise<void> {
    this.fake.calls.push({ method: 'save', trainer: this.id, detail: { path, metadata } })
    const body = encodeSafetensors({}, { [CHECKPOINT_METADATA_KEY]: metadata, fake_state: JSON.stringify(this.state) })
    await writeFileAtomic(path, body)
  }

  async joinDataParallel(group: BindingProcessGroup): Promise<void> {
    this.fake.calls.push({ method: 'joinDataParallel', trainer: this.id, detail: { rank: group.rank, worldSize: group.worldSize } })
  }

  async syncBuffers(): Promise<void> {}

  async replicaChecksum(): Promise<string> {
    return this.state.weights.toString(16).padStart(16, '0')
  }

  async idleStep(): Promise<BindingStepResult> {
    this.state.steps++
    return { loss: 0, lossClean: 0, lossAmbiguous: 0, lossNoisy: 0, clean: 0, ambiguous: 0, noisy: 0, correct1: 0, correct2: 0, dataMs: 0, computeMs: 0 }
  }

  async load(path: string): Promise<string> {
    this.fake.calls.push({ method: 'load', trainer: this.id, detail: { path } })
    let body: Buffer
    try {
      body = await fs.readFile(path)
    } catch (err) {
      throw new Error(`ERR_MAN_IO: ${path}: ${(err as Error).message}`)
    }
    const { metadata } = decodeSafetensors(body, path)
    this.state = JSON.parse(metadata.fake_state!) as FakeState
    return metadata[CHECKPOINT_METADATA_KEY]!
  }
}

export class FakeBinding implements Binding {
  readonly calls: FakeCall[] = []
  readonly steps: FakeStep[] = []
  readonly datasets: FakeDataset[] = []
  readonly trainers: FakeTrainer[] = []
  threads = 2

  constructor(readonly options: FakeBindingOptions = {}) {}

  asFake(dataset: BindingDataset): FakeDataset {
    if (!(dataset instanceof FakeDataset) || dataset.fake !== this) throw new Error('ERR_MAN_SHAPE: not a dataset of this binding')
    return dataset
  }

  runtimeInfo(): BindingRuntimeInfo {
    return { torchVersion: '2.11.0', cudaAvailable: false, cudaDeviceCount: 0, threads: this.threads, addonVersion: 'fake', cpuAmxBf16: false, cpuAvx512Bf16: false, cpuAutoPrecision: 'fp32' }
  }

  setThreads(threads: number): void {
    this.threads = threads
  }

  releaseMemory(): boolean {
    this.calls.push({ method: 'releaseMemory' })
    return false
  }

  distEnv(): BindingDistEnv | null {
    return null
  }

  distSupport(): { gloo: boolean; nccl: boolean } {
    return { gloo: false, nccl: false }
  }

  async joinProcessGroup(): Promise<BindingProcessGroup> {
    throw new Error('ERR_MAN_DIST: the fake binding has no process groups')
  }

  async resnetSmoke(): Promise<number> {
    return 2
  }

  async debugPanic(): Promise<number> {
    throw new Error('ERR_MAN_PANIC: deliberate panic')
  }

  private addDataset(names: string[], options: BindingDatasetOptions): FakeDataset {
    if (!(options.imageSize >= 1)) throw new Error(`ERR_MAN_CONFIG: imageSize must be positive, got ${options.imageSize}`)
    const ds = new FakeDataset(this, this.datasets.length, names, options)
    this.datasets.push(ds)
    this.calls.push({ method: 'Dataset.create', dataset: ds.id, detail: { n: names.length, ...options } })
    return ds
  }

  readonly Dataset = {
    fromPaths: (paths: string[], options: BindingDatasetOptions): BindingDataset => this.addDataset(paths, options),
    fromBuffers: (buffers: Uint8Array[], names: string[], options: BindingDatasetOptions): BindingDataset => {
      if (buffers.length !== names.length) throw new Error(`ERR_MAN_SHAPE: ${buffers.length} buffers, ${names.length} names`)
      return this.addDataset(names, options)
    },
  }

  readonly Trainer = {
    create: (options: BindingTrainerOptions): BindingTrainer => {
      if (!(options.numClasses >= 2)) throw new Error(`ERR_MAN_CONFIG: numClasses must be at least 2, got ${options.numClasses}`)
      const t = new FakeTrainer(this, this.trainers.length, options)
      this.trainers.push(t)
      this.calls.push({ method: 'Trainer.create', trainer: t.id, detail: { ...options } })
      return t
    },
  }

  // The loss specs run on the real addon; orchestration never calls these.
  lossCrossEntropy = noLosses
  lossKl = noLosses
  lossMutual = noLosses
  lossConsistency = noLosses
}

function noLosses(): Promise<number> {
  return Promise.reject(new Error('ERR_MAN_CONFIG: the fake binding computes no losses; use the real addon'))
}
