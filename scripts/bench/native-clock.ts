/**
 * A pass-through binding that clocks every call into the addon, so an epoch's
 * wall time can be split into native work and everything else (TypeScript
 * orchestration, the run directory's writes, callbacks). Datasets are handed
 * out unwrapped (the addon must receive its own objects); the ones created
 * are kept to read their decode counts afterwards.
 */
import type { Binding, BindingDataset, BindingStepResult, BindingTrainer } from '../../ts/native/binding.ts'

export interface NativeClock {
  /** Milliseconds inside addon calls, by method. */
  byMethod: Record<string, number>
  /** Sums of what the steps themselves reported. */
  stepDataMs: number
  stepComputeMs: number
  stepReported: boolean
  datasets: BindingDataset[]
}

export function newClock(): NativeClock {
  return { byMethod: {}, stepDataMs: 0, stepComputeMs: 0, stepReported: true, datasets: [] }
}

export function totalNativeMs(clock: NativeClock): number {
  return Object.values(clock.byMethod).reduce((a, b) => a + b, 0)
}

function add(clock: NativeClock, method: string, ms: number): void {
  clock.byMethod[method] = (clock.byMethod[method] ?? 0) + ms
}

function clockTrainer(real: BindingTrainer, clock: NativeClock): BindingTrainer {
  return new Proxy(real, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target)
      if (typeof value !== 'function') return value
      const method = String(prop)
      return (...args: unknown[]) => {
        const t0 = performance.now()
        let out: unknown
        try {
          out = (value as (...a: unknown[]) => unknown).apply(target, args)
        } finally {
          if (!(out instanceof Promise)) add(clock, method, performance.now() - t0)
        }
        if (!(out instanceof Promise)) return out
        return out.then(
          (r: unknown) => {
            add(clock, method, performance.now() - t0)
            if (method === 'warmupStep' || method === 'coDivisionStep') {
              const s = r as BindingStepResult
              if (typeof s.dataMs === 'number' && typeof s.computeMs === 'number') {
                clock.stepDataMs += s.dataMs
                clock.stepComputeMs += s.computeMs
              } else clock.stepReported = false
            }
            return r
          },
          (e: unknown) => {
            add(clock, method, performance.now() - t0)
            throw e
          },
        )
      }
    },
  })
}

export function clockedBinding(real: Binding, clock: NativeClock): Binding {
  const Trainer = { create: (options: Parameters<Binding['Trainer']['create']>[0]) => clockTrainer(real.Trainer.create(options), clock) }
  const Dataset = {
    fromPaths: (...a: Parameters<Binding['Dataset']['fromPaths']>) => {
      const ds = real.Dataset.fromPaths(...a)
      clock.datasets.push(ds)
      return ds
    },
    fromBuffers: (...a: Parameters<Binding['Dataset']['fromBuffers']>) => {
      const ds = real.Dataset.fromBuffers(...a)
      clock.datasets.push(ds)
      return ds
    },
  }
  // Handing memory back at the end of an epoch is native work too.
  const releaseMemory = () => {
    const t0 = performance.now()
    try {
      return real.releaseMemory()
    } finally {
      add(clock, 'releaseMemory', performance.now() - t0)
    }
  }
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'Trainer') return Trainer
      if (prop === 'Dataset') return Dataset
      if (prop === 'releaseMemory') return releaseMemory
      return Reflect.get(target, prop, target)
    },
  })
}
