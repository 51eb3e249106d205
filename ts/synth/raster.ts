/**
 * A tiny anti-aliased rasteriser: shapes are signed distance functions in
 * face coordinates (face half-height = 1, v pointing down), and each pixel is
 * covered in proportion to its distance from the edge (one sample a pixel,
 * edges still smooth). Each shape carries a bounding box so that painting an
 * eye touches only the pixels near the eye.
 */

export type Rgb = readonly [number, number, number]

/** Signed distance in face units: negative inside. */
export type Sdf = (u: number, v: number) => number

/** [uMin, vMin, uMax, vMax] in face units. */
export type Box = readonly [number, number, number, number]

export interface Shape {
  d: Sdf
  box: Box
}

export const EVERYWHERE: Box = [-Infinity, -Infinity, Infinity, Infinity]

export interface Pose {
  /** Face centre in pixels. */
  cx: number
  cy: number
  /** Pixels per face unit. */
  scale: number
  /** Radians, clockwise on screen. */
  angle: number
}

export class FaceCanvas {
  readonly rgb: Float32Array
  /** Face coordinates of each pixel centre. */
  private readonly u: Float32Array
  private readonly v: Float32Array

  constructor(readonly size: number, readonly pose: Pose) {
    const n = size * size
    this.rgb = new Float32Array(n * 3)
    this.u = new Float32Array(n)
    this.v = new Float32Array(n)
    const cos = Math.cos(pose.angle)
    const sin = Math.sin(pose.angle)
    for (let y = 0, i = 0; y < size; y++) {
      for (let x = 0; x < size; x++, i++) {
        const dx = x + 0.5 - pose.cx
        const dy = y + 0.5 - pose.cy
        this.u[i] = (dx * cos + dy * sin) / pose.scale
        this.v[i] = (-dx * sin + dy * cos) / pose.scale
      }
    }
  }

  /** Fills every pixel from a function of its pixel coordinates (backgrounds). */
  fill(color: (x: number, y: number, out: number[]) => void): void {
    const c = [0, 0, 0]
    for (let y = 0, i = 0; y < this.size; y++) {
      for (let x = 0; x < this.size; x++, i++) {
        color(x, y, c)
        this.rgb[i * 3] = c[0]!
        this.rgb[i * 3 + 1] = c[1]!
        this.rgb[i * 3 + 2] = c[2]!
      }
    }
  }

  /** The pixel rectangle [x0, y0, x1, y1) that holds a face-space box (plus a pixel for the soft edge). */
  private pixelRect(box: Box): [number, number, number, number] {
    const { cx, cy, scale, angle } = this.pose
    const cos = Math.cos(angle)
    const sin = Math.sin(angle)
    let x0 = Infinity
    let y0 = Infinity
    let x1 = -Infinity
    let y1 = -Infinity
    for (const u of [box[0], box[2]]) {
      for (const v of [box[1], box[3]]) {
        const x = cx + (u * cos - v * sin) * scale
        const y = cy + (u * sin + v * cos) * scale
        x0 = Math.min(x0, x)
        y0 = Math.min(y0, y)
        x1 = Math.max(x1, x)
        y1 = Math.max(y1, y)
      }
    }
    const clamp = (p: number) => Math.min(this.size, Math.max(0, Number.isNaN(p) ? 0 : p))
    return [clamp(Math.floor(x0) - 1), clamp(Math.floor(y0) - 1), clamp(Math.ceil(x1) + 2), clamp(Math.ceil(y1) + 2)]
  }

  /** Paints a shape; `shade` (face coordinates → factor) varies its brightness. */
  paint(shape: Shape, color: Rgb, opacity = 1, shade?: (u: number, v: number) => number): void {
    const { rgb, u, v, size } = this
    const s = this.pose.scale
    const [x0, y0, x1, y1] = this.pixelRect(shape.box)
    for (let y = y0; y < y1; y++) {
      for (let i = y * size + x0; i < y * size + x1; i++) {
        const a = Math.min(1, Math.max(0, 0.5 - shape.d(u[i]!, v[i]!) * s)) * opacity
        if (a <= 0) continue
        const k = shade ? shade(u[i]!, v[i]!) : 1
        for (let c = 0; c < 3; c++) rgb[i * 3 + c] = rgb[i * 3 + c]! * (1 - a) + color[c]! * k * a
      }
    }
  }
}

export function ellipse(cx: number, cy: number, rx: number, ry: number): Shape {
  // Distance estimate f/|∇f| of the implicit ellipse: good near the edge, which is all coverage needs.
  const d: Sdf = (u, v) => {
    const x = (u - cx) / rx
    const y = (v - cy) / ry
    const k0 = Math.sqrt(x * x + y * y)
    const k1 = Math.sqrt((x * x) / (rx * rx) + (y * y) / (ry * ry))
    return k1 === 0 ? -Math.min(rx, ry) : (k0 * (k0 - 1)) / k1
  }
  return { d, box: [cx - rx, cy - ry, cx + rx, cy + ry] }
}

/** A thick segment from (ax, ay) to (bx, by). */
export function capsule(ax: number, ay: number, bx: number, by: number, r: number): Shape {
  const ex = bx - ax
  const ey = by - ay
  const len2 = ex * ex + ey * ey
  const d: Sdf = (u, v) => {
    const px = u - ax
    const py = v - ay
    const t = Math.min(1, Math.max(0, (px * ex + py * ey) / len2))
    const qx = px - ex * t
    const qy = py - ey * t
    return Math.sqrt(qx * qx + qy * qy) - r
  }
  return { d, box: [Math.min(ax, bx) - r, Math.min(ay, by) - r, Math.max(ax, bx) + r, Math.max(ay, by) + r] }
}

/** A shape given by a distance function and a box known to hold it. */
export const region = (d: Sdf, box: Box = EVERYWHERE): Shape => ({ d, box })

export function intersect(a: Shape, b: Shape): Shape {
  return {
    d: (u, v) => Math.max(a.d(u, v), b.d(u, v)),
    box: [Math.max(a.box[0], b.box[0]), Math.max(a.box[1], b.box[1]), Math.min(a.box[2], b.box[2]), Math.min(a.box[3], b.box[3])],
  }
}

export function union(a: Shape, b: Shape): Shape {
  return {
    d: (u, v) => Math.min(a.d(u, v), b.d(u, v)),
    box: [Math.min(a.box[0], b.box[0]), Math.min(a.box[1], b.box[1]), Math.max(a.box[2], b.box[2]), Math.max(a.box[3], b.box[3])],
  }
}

/** The outline of a shape, `r` thick on each side of its edge. */
export function outline(a: Shape, r: number): Shape {
  return { d: (u, v) => Math.abs(a.d(u, v)) - r, box: [a.box[0] - r, a.box[1] - r, a.box[2] + r, a.box[3] + r] }
}
