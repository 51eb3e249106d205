/**
 * Draws one face: background, neck, hair, skin with shading, then brows,
 * eyes, nose and mouth shaped by the expression, then light and sensor noise.
 * Face units: half the face height is about 1, u to the right, v down.
 */
import type { Rng } from '../util/prng.ts'
import type { Expression } from './expressions.ts'
import type { Look } from './look.ts'
import { capsule, ellipse, FaceCanvas, intersect, outline, region, union, type Rgb, type Shape } from './raster.ts'

const SCLERA: Rgb = [236, 234, 228]
const LASH: Rgb = [35, 25, 25]
const MOUTH_INSIDE: Rgb = [70, 20, 25]
const TEETH: Rgb = [240, 238, 228]

const scaled = (c: Rgb, k: number): Rgb => [c[0] * k, c[1] * k, c[2] * k]

function drawBackground(canvas: FaceCanvas, look: Look): void {
  const n = canvas.size
  // sin(kx·x + ky·y + φ) = sin(kx·x)·cos(ky·y + φ) + cos(kx·x)·sin(ky·y + φ): per-row and per-column tables.
  const waves = look.waves.map((w) => {
    const kx = (2 * Math.PI * w.freq * Math.cos(w.angle)) / n
    const ky = (2 * Math.PI * w.freq * Math.sin(w.angle)) / n
    const table = (amp: number, k: number, phase: number, f: (a: number) => number) =>
      Float64Array.from({ length: n }, (_, i) => amp * f(k * i + phase))
    return {
      sx: table(w.amp, kx, 0, Math.sin),
      cx: table(w.amp, kx, 0, Math.cos),
      sy: table(1, ky, w.phase, Math.sin),
      cy: table(1, ky, w.phase, Math.cos),
    }
  })
  const [r, g, b] = look.background
  canvas.fill((x, y, out) => {
    let t = 0
    for (const w of waves) t += (w.sx[x]! * w.cy[y]! + w.cx[x]! * w.sy[y]!)
    out[0] = r + t
    out[1] = g + t * 0.8
    out[2] = b + t * 0.6
  })
}

function drawHead(canvas: FaceCanvas, look: Look): void {
  const { faceRx: rx, faceRy: ry, skin, hair } = look
  const face = ellipse(0, 0, rx, ry)
  const neck = region((u, v) => Math.max(Math.abs(u) - rx * 0.55, 0.5 - v), [-rx, 0.4, rx, Infinity])
  canvas.paint(neck, scaled(skin, 0.8))
  if (look.hairStyle > 0) {
    const bottom = look.hairStyle === 2 ? 1.3 : 0.1
    canvas.paint(intersect(ellipse(0, -0.1, rx * 1.15, ry * 1.1), region((_u, v) => v - bottom, [-9, -9, 9, bottom])), hair)
  }
  // Darker towards the rim, as a rounded surface would be.
  canvas.paint(face, skin, 1, (u, v) => {
    const r2 = (u * u) / (rx * rx) + (v * v) / (ry * ry)
    return 1 - 0.28 * r2 * r2
  })
  if (look.hairStyle > 0) {
    const hairline = region((u, v) => v - (look.fringe + 0.05 * Math.sin(u * 9 + look.fringePhase)), [-9, -9, 9, look.fringe + 0.06])
    canvas.paint(intersect(face, hairline), hair)
  }
}

function drawBrows(canvas: FaceCanvas, look: Look, e: Expression): void {
  const y = -0.38 - 0.16 * e.browRaise
  const color = scaled(look.hair, 0.7)
  for (const s of [-1, 1]) {
    const inner = [s * 0.12 + look.yaw, y + 0.08 * e.browTilt] as const
    const mid = [s * 0.3 + look.yaw, y - 0.04] as const
    const outer = [s * 0.48 + look.yaw, y - 0.05 * e.browTilt + 0.03] as const
    canvas.paint(union(capsule(...inner, ...mid, 0.06), capsule(...mid, ...outer, 0.05)), color, 0.95)
  }
}

function drawEyes(canvas: FaceCanvas, look: Look, e: Expression): void {
  for (const s of [-1, 1]) {
    const cx = s * 0.33 + look.yaw
    const cy = -0.1
    const eye = ellipse(cx, cy, 0.17, Math.max(0.015, 0.1 * e.eyeOpen))
    canvas.paint(eye, SCLERA)
    canvas.paint(intersect(eye, ellipse(cx + look.gazeX, cy, 0.07, 0.07)), look.iris)
    canvas.paint(intersect(eye, ellipse(cx + look.gazeX, cy, 0.032, 0.032)), [10, 10, 10])
    canvas.paint(outline(eye, 0.016), LASH, 0.9)
  }
}

function drawNose(canvas: FaceCanvas, look: Look, e: Expression): void {
  const x = look.yaw * 1.4
  canvas.paint(capsule(x + 0.02, -0.02, x + 0.05, 0.24, 0.018), scaled(look.skin, 0.75), 0.6)
  for (const s of [-1, 1]) canvas.paint(ellipse(x + s * 0.07, 0.29, 0.04, 0.022), scaled(look.skin, 0.5), 0.8)
  const wrinkle = Math.min(1, Math.max(0, e.sneer))
  if (wrinkle > 0.05) {
    for (const s of [-1, 1]) canvas.paint(capsule(x + s * 0.11, 0.1, x + s * 0.19, 0.3, 0.016), scaled(look.skin, 0.55), 0.8 * wrinkle)
  }
}

function drawMouth(canvas: FaceCanvas, look: Look, e: Expression): void {
  const mx = look.yaw * 1.2
  const my = 0.56
  const w = 0.32 * e.mouthWidth
  const lip = 0.04
  // The mouth line bends with the curve (smile: middle lower than the corners) and the sneer lifts one corner.
  const centre = (x: number) => my + 0.16 * e.mouthCurve * (0.5 - x * x) - 0.08 * e.sneer * x
  const half = (x: number) => 0.16 * e.mouthOpen * Math.sqrt(Math.max(0, 1 - x * x))
  const reach = 0.16 * Math.abs(e.mouthCurve) + 0.08 * Math.abs(e.sneer) + 0.16 * e.mouthOpen + 2 * lip
  const box = [mx - w - lip, my - reach, mx + w + lip, my + reach] as const
  const inside: Shape = region((u, v) => {
    const x = (u - mx) / w
    return Math.max(Math.abs(v - centre(x)) - half(x), Math.abs(u - mx) - w + lip)
  }, box)
  const lips = region((u, v) => inside.d(u, v) - lip, box)
  canvas.paint(lips, [look.skin[0] * 0.75 + 40, look.skin[1] * 0.5, look.skin[2] * 0.55])
  canvas.paint(inside, MOUTH_INSIDE)
  if (e.teeth > 0.05) {
    const teethEdge = region((u, v) => {
      const x = (u - mx) / w
      return v - (centre(x) - half(x) + 1.2 * e.teeth * half(x))
    })
    canvas.paint(intersect(inside, teethEdge), TEETH)
  }
}

function finish(canvas: FaceCanvas, look: Look, rng: Rng): Uint8Array {
  const n = canvas.size
  const rgba = new Uint8Array(n * n * 4)
  const lx = Math.cos(look.lightAngle) / n
  const ly = Math.sin(look.lightAngle) / n
  for (let y = 0, i = 0; y < n; y++) {
    for (let x = 0; x < n; x++, i++) {
      const light = 1 + look.lightStrength * ((x - n / 2) * lx + (y - n / 2) * ly) * 2
      // Uniform grain with the standard deviation of look.noise: cheaper per pixel than Gaussian, and as good here.
      const grain = look.noise * 3.46 * (rng.next() - 0.5)
      for (let c = 0; c < 3; c++) {
        rgba[i * 4 + c] = Math.min(255, Math.max(0, Math.round(canvas.rgb[i * 3 + c]! * light + grain)))
      }
      rgba[i * 4 + 3] = 255
    }
  }
  return rgba
}

/** The face as RGBA bytes (what jpeg-js encodes); `rng` only adds sensor noise. */
export function drawFace(size: number, look: Look, expression: Expression, rng: Rng): Uint8Array {
  const canvas = new FaceCanvas(size, look.pose)
  drawBackground(canvas, look)
  drawHead(canvas, look)
  drawBrows(canvas, look, expression)
  drawEyes(canvas, look, expression)
  drawNose(canvas, look, expression)
  drawMouth(canvas, look, expression)
  return finish(canvas, look, rng)
}
