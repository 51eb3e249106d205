/**
 * Data-parallel training's TypeScript half (the tensor half is in
 * crates/man-core/src/dist): each rank trains on its shard of every batch,
 * predicts its shard of every prediction pass and gathers the rest, and the
 * ranks agree on the few numbers that decide what happens next (the step's
 * sums, stop and abort). Rank 0 alone reads and writes the run directory and
 * hands what it read to the others. One process is the degenerate case:
 * `Replicas.single()`, where every method is the identity or a plain call.
 */
import { callNative, callNativeSync, ManError, type ManErrorCode } from '../errors.ts'
import type {
  Binding,
  BindingDataset,
  BindingPrediction,
  BindingProcessGroup,
  BindingStepResult,
  BindingTrainer,
  BindingView,
} from '../native/binding.ts'
import { shardBatch, shardRange, type BatchArrays } from './shard.ts'
import { bytesOf, concatPredictions, decodeJson, encodeJson, encodePrediction } from './wire.ts'

export interface DistributedOptions {
  /**
   * Milliseconds a collective waits for the other ranks (and the rendezvous
   * for all of them to start) before failing. A rank that dies is usually
   * noticed at once (its connections close); this bounds a stuck one.
   * Default 30 minutes, as torch.distributed's Gloo.
   */
  timeoutMs?: number
  /** After every step, compare a checksum of every rank's weights (and record them in metrics.jsonl). */
  verify?: boolean
  /** CUDA gradients over NCCL: 'auto' (default) when the addon has NCCL and the device is CUDA; else Gloo. */
  nccl?: boolean | 'auto'
  /** Gradient bucket size in MiB (default 25, as DDP). */
  bucketMb?: number
}

export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000

/** The device of a rank: 'auto' and 'cuda' take the GPU of the local rank, as torchrun users expect. */
export function rankDevice(device: string, localRank: number, cudaAvailable: boolean): string {
  if (device === 'cuda' || (device === 'auto' && cudaAvailable)) return `cuda:${localRank}`
  if (device === 'auto') return 'cpu'
  return device
}

interface SharedOutcome<T> {
  value?: T
  error?: { code: string; message: string }
}

export class Replicas {
  private constructor(
    readonly group: BindingProcessGroup | null,
    readonly options: DistributedOptions,
  ) {}

  static single(): Replicas {
    return new Replicas(null, {})
  }

  /** Joins the process group the environment describes (torchrun, Slurm, `man-fer train --nproc`). */
  static async join(binding: Binding, options: DistributedOptions, device: string): Promise<Replicas> {
    const env = callNativeSync(() => binding.distEnv())
    if (env === null) {
      throw new ManError(
        'ERR_MAN_DIST',
        'distributed training needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (torchrun, man-fer train --nproc) or SLURM_PROCID, SLURM_NTASKS, MASTER_ADDR and MASTER_PORT (srun)',
      )
    }
    const support = binding.distSupport()
    const cuda = device.startsWith('cuda')
    const nccl = options.nccl === 'auto' || options.nccl === undefined ? support.nccl && cuda : options.nccl
    if (nccl && !support.nccl) {
      throw new ManError('ERR_MAN_DIST', 'this build of the addon has no NCCL backend (build it with the nccl feature); CUDA gradients can go over Gloo instead (nccl: false)')
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const group = await callNative(() => binding.joinProcessGroup({ timeoutMs, nccl }))
    return new Replicas(group, { ...options, timeoutMs })
  }

  get rank(): number {
    return this.group?.rank ?? 0
  }

  get worldSize(): number {
    return this.group?.worldSize ?? 1
  }

  /** The rank that writes the run directory, checkpoints and report. */
  get isMain(): boolean {
    return this.rank === 0
  }

  get distributed(): boolean {
    return this.group !== null
  }

  /** Gradient averaging starts, from rank 0's weights, BatchNorm statistics and Adam state. */
  async joinTrainer(trainer: BindingTrainer): Promise<void> {
    if (this.group === null) return
    const group = this.group
    await callNative(() => trainer.joinDataParallel(group, this.options.bucketMb ?? null))
  }

  /** This rank's part of a global batch. */
  shard<B extends BatchArrays>(batch: B): B {
    return this.group === null ? batch : shardBatch(batch, this.rank, this.worldSize)
  }

  /**
   * A prediction pass over `indices`, each rank predicting its shard with
   * rank 0's BatchNorm statistics; every rank gets the whole, in order.
   */
  async predict(
    trainer: BindingTrainer,
    dataset: BindingDataset,
    indices: Uint32Array,
    view: BindingView,
    epoch: number,
    batchSize: number,
    withProbs: boolean,
  ): Promise<BindingPrediction> {
    const group = this.group
    if (group === null) return callNative(() => trainer.predict(dataset, indices, view, epoch, batchSize, withProbs))
    await callNative(() => trainer.syncBuffers())
    const { start, end } = shardRange(indices.length, this.rank, this.worldSize)
    const mine =
      end > start
        ? await callNative(() => trainer.predict(dataset, indices.subarray(start, end), view, epoch, batchSize, withProbs))
        : { pred1: new Int32Array(0), pred2: new Int32Array(0), probs: withProbs ? new Float32Array(0) : null }
    const parts = await callNative(() => group.allGather(encodePrediction(mine)))
    return concatPredictions(parts, withProbs)
  }

  /** The step over the whole global batch: sums of every rank's counts and size-weighted losses. */
  async reduceStep(step: BindingStepResult, size: number): Promise<{ step: BindingStepResult; size: number }> {
    const group = this.group
    if (group === null) return { step, size }
    const local = Float64Array.of(
      size,
      step.loss * size,
      step.lossClean * size,
      step.lossAmbiguous * size,
      step.lossNoisy * size,
      step.clean,
      step.ambiguous,
      step.noisy,
      step.correct1,
      step.correct2,
      step.dataMs,
      step.computeMs,
    )
    const s = await callNative(() => group.allReduceSum(local))
    const n = Math.max(1, s[0]!)
    const w = this.worldSize
    return {
      size: s[0]!,
      step: {
        loss: s[1]! / n,
        lossClean: s[2]! / n,
        lossAmbiguous: s[3]! / n,
        lossNoisy: s[4]! / n,
        clean: s[5]!,
        ambiguous: s[6]!,
        noisy: s[7]!,
        correct1: s[8]!,
        correct2: s[9]!,
        // Ranks run side by side: their mean time is the step's.
        dataMs: s[10]! / w,
        computeMs: s[11]! / w,
      },
    }
  }

  /** For each flag, whether any rank raised it: every rank stops (or aborts) at the same batch. */
  async any(flags: boolean[]): Promise<boolean[]> {
    const group = this.group
    if (group === null) return flags
    const s = await callNative(() => group.allReduceSum(Float64Array.from(flags, (f) => (f ? 1 : 0))))
    return Array.from(s, (v) => v > 0)
  }

  /**
   * Runs `produce` on rank 0 and gives its result to every rank; its error,
   * if any, is thrown on every rank (the others' message says it is rank 0's).
   */
  async fromMain<T>(produce: () => Promise<T>): Promise<T> {
    const group = this.group
    if (group === null) return produce()
    if (this.isMain) {
      let outcome: SharedOutcome<T>
      let failure: unknown = null
      try {
        outcome = { value: await produce() }
      } catch (err) {
        failure = err
        const code = err instanceof ManError ? err.code : 'ERR_MAN_DIST'
        outcome = { error: { code, message: err instanceof Error ? err.message : String(err) } }
      }
      await callNative(() => group.broadcast(encodeJson(outcome), 0))
      if (failure !== null) throw failure
      return outcome.value as T
    }
    const outcome = decodeJson<SharedOutcome<T>>(await callNative(() => group.broadcast(new Uint8Array(0), 0)))
    if (outcome.error !== undefined) {
      throw new ManError(outcome.error.code as ManErrorCode, `rank 0: ${outcome.error.message}`)
    }
    return outcome.value as T
  }

  /** Bytes held by rank 0 (a partition read back on resume), on every rank. */
  async bytesFromMain(bytes: Uint8Array | null): Promise<Uint8Array> {
    const group = this.group
    if (group === null) return bytes ?? new Uint8Array(0)
    return callNative(() => group.broadcast(this.isMain && bytes !== null ? bytes : new Uint8Array(0), 0))
  }

  /**
   * With `verify`: every rank's weight checksum, in rank order; throws
   * ERR_MAN_DIST when they differ. Null when not verifying.
   */
  async checkReplicas(trainer: BindingTrainer, where: string): Promise<string[] | null> {
    const group = this.group
    if (group === null || this.options.verify !== true) return null
    const mine = await callNative(() => trainer.replicaChecksum())
    const all = (await callNative(() => group.allGather(encodeJson(mine)))).map((b) => decodeJson<string>(b))
    if (all.some((c) => c !== all[0])) {
      throw new ManError('ERR_MAN_DIST', `the ranks' weights differ ${where}: checksums ${all.join(', ')}`)
    }
    return all
  }
}

export { bytesOf }
