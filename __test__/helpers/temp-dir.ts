/** The specs' one way to get a scratch folder under the system's temp directory. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh folder; the caller removes it (suites that share one across tests, in `test.after.always`). */
export function makeTempDir(prefix = 'man-fer-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** A fresh folder, removed when the test ends. */
export function tempDir(t: { teardown(fn: () => void): void }, prefix?: string): string {
  const dir = makeTempDir(prefix)
  t.teardown(() => removeTempDir(dir))
  return dir
}
