/**
 * GPU name and peak memory, from nvidia-smi: the addon does not expose
 * libtorch's allocator statistics, and the device-wide figure also counts
 * the CUDA context and the caching allocator's reserve, which is what a user
 * has to provision for.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'

export function gpuName(): string | null {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    })
      .trim()
      .split('\n')[0]!
  } catch {
    return null
  }
}

/** Samples the memory used on GPU 0 every 200 ms until stopped; keeps the peak in MiB. */
export class GpuMemoryWatch {
  peakMiB = 0
  private child: ChildProcess | null = null

  start(): this {
    try {
      const child = spawn('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', '-i', '0', '-lms', '200'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      })
      child.on('error', () => (this.child = null))
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) {
          const v = Number(line.trim())
          if (line.trim() !== '' && Number.isFinite(v)) this.peakMiB = Math.max(this.peakMiB, v)
        }
      })
      this.child = child
    } catch {
      this.child = null
    }
    return this
  }

  stop(): number | null {
    this.child?.kill()
    const seen = this.child !== null && this.peakMiB > 0
    this.child = null
    return seen ? this.peakMiB : null
  }
}
