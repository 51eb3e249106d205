/**
 * A man-fer checkpoint's first network as a plain backbone file: the
 * `net1.*` tensors under their torchvision names, without the classification
 * head (`fc.*`) and without Adam's state, as safetensors. What a user would
 * pass as `--pretrained` after training a backbone on other data.
 */
import { promises as fs } from 'node:fs'

interface TensorEntry {
  dtype: string
  shape: number[]
  data_offsets: [number, number]
}

export async function exportBackbone(checkpoint: string, out: string): Promise<{ tensors: number; bytes: number }> {
  const file = await fs.readFile(checkpoint)
  const headerLength = Number(file.readBigUInt64LE(0))
  const header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, TensorEntry | Record<string, string>>
  const dataStart = 8 + headerLength
  const picked: Array<{ name: string; entry: TensorEntry }> = []
  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__' || !key.startsWith('net1.')) continue
    const name = key.slice('net1.'.length)
    if (name.startsWith('fc.')) continue
    picked.push({ name, entry: value as TensorEntry })
  }
  if (picked.length === 0) throw new Error(`${checkpoint}: no net1.* tensors: not a man-fer checkpoint`)
  picked.sort((a, b) => a.name.localeCompare(b.name))
  const outHeader: Record<string, TensorEntry | Record<string, string>> = { __metadata__: { format: 'pt', source: checkpoint } }
  const chunks: Buffer[] = []
  let offset = 0
  for (const { name, entry } of picked) {
    const [from, to] = entry.data_offsets
    chunks.push(file.subarray(dataStart + from, dataStart + to))
    outHeader[name] = { dtype: entry.dtype, shape: entry.shape, data_offsets: [offset, offset + (to - from)] }
    offset += to - from
  }
  let json = Buffer.from(JSON.stringify(outHeader), 'utf8')
  // The data section starts on an 8-byte boundary, as the format recommends.
  const pad = (8 - (json.length % 8)) % 8
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)])
  const length = Buffer.alloc(8)
  length.writeBigUInt64LE(BigInt(json.length))
  const tmp = `${out}.tmp-${process.pid}`
  await fs.writeFile(tmp, Buffer.concat([length, json, ...chunks]))
  await fs.rename(tmp, out)
  return { tensors: picked.length, bytes: offset }
}
