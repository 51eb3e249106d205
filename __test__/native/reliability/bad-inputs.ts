/**
 * Hostile inputs the reliability specs build for themselves: files that cost
 * nothing on disk but would cost gigabytes (or forever) if read naively.
 */
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'

import { ROOT } from './child.ts'

const PYTHON = path.join(ROOT, '.venv', 'bin', 'python')

function pngChunk(kind: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(kind, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0)
  return Buffer.concat([head, data, crc])
}

/**
 * A valid greyscale PNG of side×side black pixels: ~200 KB on disk for
 * 14000², 196 MB decoded and 588 MB once turned into RGB.
 */
export async function pixelBomb(file: string, side = 14_000): Promise<void> {
  const deflate = zlib.createDeflate({ level: 9 })
  const parts: Buffer[] = []
  deflate.on('data', (b: Buffer) => parts.push(b))
  const done = new Promise<void>((resolve, reject) => deflate.on('end', resolve).on('error', reject))
  const row = Buffer.alloc(side + 1) // filter byte 0, then the row
  for (let y = 0; y < side; y++) {
    if (!deflate.write(row)) await new Promise((r) => deflate.once('drain', r))
  }
  deflate.end()
  await done
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(side, 0)
  ihdr.writeUInt32BE(side, 4)
  ihdr.set([8, 0, 0, 0, 0], 8) // 8-bit greyscale, deflate, adaptive filtering, no interlace
  const png = Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.concat(parts)),
    pngChunk('IEND', Buffer.alloc(0)),
  ])
  await fs.writeFile(file, png)
}

/** A file `bytes` long that occupies no disk (sparse). */
export async function sparseFile(file: string, bytes: number): Promise<void> {
  const handle = await fs.open(file, 'w')
  await handle.truncate(bytes)
  await handle.close()
}

export function mkfifo(file: string): void {
  execFileSync('mkfifo', [file])
}

const WRITE_NAN = `
import sys, torch
sys.path.insert(0, sys.argv[1])
from man_reference import ResNet18
torch.manual_seed(3)
sd = ResNet18(int(sys.argv[3])).state_dict()
sd['layer1.0.conv1.weight'][0, 0, 0, 0] = float('nan')
torch.save({'state_dict': sd}, sys.argv[2])
`

// A zip bomb: a real torch.save archive whose conv1 storage (37 KB declared
// by the pickle) is deflated and followed by 1 GiB of zeros (~1 MB on disk).
const WRITE_BOMB = `
import io, sys, torch, zipfile
small = io.BytesIO()
torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7)}, small)
with zipfile.ZipFile(small) as zin, zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename.endswith('/data/0'):
            with zout.open(info.filename, 'w', force_zip64=True) as f:
                f.write(data)
                zeros = bytes(1 << 24)
                for _ in range(64):
                    f.write(zeros)
        else:
            zout.writestr(zipfile.ZipInfo(info.filename), data)
`

/** A ResNet-18 state dict (torch.save zip) with one NaN in layer1.0.conv1.weight, written by the torch in .venv. */
export function nanWeights(file: string, classes: number): string {
  execFileSync(PYTHON, ['-c', WRITE_NAN, path.join(ROOT, '__test__', 'native', 'parity'), file, String(classes)])
  return file
}

/** A ~1 MB torch.save archive that inflates to 1 GiB, written by the torch in .venv. */
export function zipBomb(file: string): string {
  execFileSync(PYTHON, ['-c', WRITE_BOMB, file])
  return file
}
