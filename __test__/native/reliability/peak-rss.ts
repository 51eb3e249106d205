/**
 * Preloaded into a child process (`node --import=<this file>`): when the
 * process exits, writes its peak resident memory (VmHWM, in KiB) to the file
 * named by MAN_PEAK_RSS_FILE, so a spec can bound what an input cost.
 */
import { readFileSync, writeFileSync } from 'node:fs'

const target = process.env.MAN_PEAK_RSS_FILE
if (target) {
  process.on('exit', () => {
    let kib: number
    try {
      kib = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1])
    } catch {
      kib = process.resourceUsage().maxRSS
    }
    writeFileSync(target, String(kib))
  })
}
