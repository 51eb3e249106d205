/**
 * Several data-parallel ranks in one process, for orchestration specs: one
 * FakeBinding shared by every rank (the binding is process-wide), which
 * tells each call which rank it serves through AsyncLocalStorage, and an
 * in-memory process group whose collectives wait for every rank's call.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

import type { BindingDistEnv, BindingProcessGroup } from '../../ts/native/binding.ts'
import { FakeBinding, type FakeBindingOptions } from '../fake-binding.ts'

const current = new AsyncLocalStorage<number>()

class Rendezvous {
  private rounds = new Map<number, { values: unknown[]; arrived: number; done: Array<(all: unknown[]) => void> }>()

  constructor(readonly size: number) {}

  /** Rank `rank`'s `seq`-th collective: resolves with every rank's value once all have called. */
  exchange(seq: number, rank: number, value: unknown): Promise<unknown[]> {
    let round = this.rounds.get(seq)
    if (round === undefined) {
      round = { values: new Array(this.size), arrived: 0, done: [] }
      this.rounds.set(seq, round)
    }
    round.values[rank] = value
    round.arrived++
    const r = round
    const settled = new Promise<unknown[]>((resolve) => r.done.push(resolve))
    if (r.arrived === this.size) {
      this.rounds.delete(seq)
      for (const d of r.done) d(r.values)
    }
    return settled
  }
}

class FakeGroup implements BindingProcessGroup {
  private seq = 0
  readonly backend = 'fake'
  readonly ops: string[] = []

  constructor(
    private readonly world: Rendezvous,
    readonly rank: number,
  ) {}

  get worldSize(): number {
    return this.world.size
  }

  get localRank(): number {
    return this.rank
  }

  private exchange(op: string, value: unknown): Promise<unknown[]> {
    this.ops.push(op)
    return this.world.exchange(this.seq++, this.rank, { op, value }).then((all) => {
      const ops = new Set((all as Array<{ op: string }>).map((a) => a.op))
      if (ops.size !== 1) throw new Error(`ERR_MAN_DIST: the ranks called different collectives: ${[...ops].join(', ')}`)
      return (all as Array<{ value: unknown }>).map((a) => a.value)
    })
  }

  async allReduceSum(values: Float64Array): Promise<Float64Array> {
    const all = (await this.exchange('allReduceSum', Array.from(values))) as number[][]
    return Float64Array.from(values, (_, i) => all.reduce((s, v) => s + v[i]!, 0))
  }

  async allGather(data: Uint8Array): Promise<Uint8Array[]> {
    const all = (await this.exchange('allGather', Array.from(data))) as number[][]
    return all.map((v) => Uint8Array.from(v))
  }

  async broadcast(data: Uint8Array, root: number): Promise<Uint8Array> {
    const all = (await this.exchange(`broadcast:${root}`, Array.from(data))) as number[][]
    return Uint8Array.from(all[root]!)
  }

  async barrier(): Promise<void> {
    await this.exchange('barrier', null)
  }
}

export class FakeWorldBinding extends FakeBinding {
  private readonly world: Rendezvous
  readonly groups: FakeGroup[] = []

  constructor(
    readonly size: number,
    options: FakeBindingOptions = {},
  ) {
    super(options)
    this.world = new Rendezvous(size)
  }

  override distEnv(): BindingDistEnv | null {
    const rank = current.getStore()
    if (rank === undefined) return null
    return { rank, worldSize: this.size, localRank: rank, masterAddr: '127.0.0.1', masterPort: 1, source: 'fake' }
  }

  override distSupport(): { gloo: boolean; nccl: boolean } {
    return { gloo: true, nccl: false }
  }

  override async joinProcessGroup(): Promise<BindingProcessGroup> {
    const rank = current.getStore()
    if (rank === undefined) throw new Error('ERR_MAN_DIST: not inside runRanks')
    const group = new FakeGroup(this.world, rank)
    this.groups.push(group)
    return group
  }

  /** Runs `f` as every rank at once; settles like Promise.allSettled. */
  runRanks<T>(f: (rank: number) => Promise<T>): Promise<Array<PromiseSettledResult<T>>> {
    return Promise.allSettled(Array.from({ length: this.size }, (_, rank) => current.run(rank, () => f(rank))))
  }
}
