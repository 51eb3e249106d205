/** Small dataset trees in temp folders for the adapter specs. */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import jpeg from 'jpeg-js'

let cached: Buffer | undefined

/** A valid 4×4 JPEG. */
export function tinyJpeg(): Buffer {
  cached ??= jpeg.encode({ width: 4, height: 4, data: Buffer.alloc(4 * 4 * 4, 128) }, 90).data
  return cached
}

export { tempDir } from '../helpers/temp-dir.ts'

/** Writes files under root; `null` content means a tiny JPEG. */
export async function writeTree(root: string, files: Record<string, string | Buffer | null>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, content ?? tinyJpeg())
  }
}

/** A RAF-DB tree: label lines as given, an aligned image for each listed name in `images`. */
export async function writeRafdb(root: string, lines: string[], images: string[]): Promise<void> {
  const files: Record<string, string | null> = { 'EmoLabel/list_patition_label.txt': lines.join('\n') + '\n' }
  for (const name of images) files[`Image/aligned/${name.replace('.jpg', '_aligned.jpg')}`] = null
  await writeTree(root, files)
}
