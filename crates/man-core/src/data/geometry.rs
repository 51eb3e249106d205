//! Geometric transforms on u8 HWC images with PIL's conventions: an affine
//! map sends each output pixel centre (x+0.5, y+0.5) to an input point, which
//! is sampled bilinearly or by nearest neighbour; points outside the input
//! take the fill colour.

/// Output (x, y) -> input (a*x + b*y + c, d*x + e*y + f), PIL's order.
pub type Affine = [f64; 6];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    Nearest,
    Bilinear,
}

pub struct Frame<'a> {
    pub data: &'a [u8],
    pub width: usize,
    pub height: usize,
}

/// Warps `src` into `dst` (out_w x out_h, u8 HWC).
pub fn warp_affine(src: &Frame, m: &Affine, sampling: Sampling, fill: u8, dst: &mut [u8], out_w: usize) {
    let (w, h) = (src.width as f64, src.height as f64);
    for (y, row) in dst.chunks_exact_mut(out_w * 3).enumerate() {
        let yc = y as f64 + 0.5;
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let xc = x as f64 + 0.5;
            let xi = m[0] * xc + m[1] * yc + m[2];
            let yi = m[3] * xc + m[4] * yc + m[5];
            if !(0.0..w).contains(&xi) || !(0.0..h).contains(&yi) {
                px.fill(fill);
                continue;
            }
            match sampling {
                Sampling::Nearest => {
                    let o = ((yi as usize) * src.width + xi as usize) * 3;
                    px.copy_from_slice(&src.data[o..o + 3]);
                }
                Sampling::Bilinear => bilinear(src, xi - 0.5, yi - 0.5, px),
            }
        }
    }
}

/// PIL's bilinear sampler: neighbours clamped to the image.
/// `x` and `y` are >= -0.5 (the caller rejected points outside the image).
fn bilinear(src: &Frame, x: f64, y: f64, px: &mut [u8]) {
    // floor without a libm call: truncation is floor for x >= 0.
    let floor = |v: f64| if v < 0.0 { -1 } else { v as isize };
    let (xf, yf) = (floor(x), floor(y));
    let (dx, dy) = (x - xf as f64, y - yf as f64);
    let clamp_x = |v: isize| (v.max(0) as usize).min(src.width - 1);
    let clamp_y = |v: isize| (v.max(0) as usize).min(src.height - 1);
    let (x0, x1) = (clamp_x(xf), clamp_x(xf + 1));
    let (y0, y1) = (clamp_y(yf), clamp_y(yf + 1));
    let at = |xx: usize, yy: usize, c: usize| f64::from(src.data[(yy * src.width + xx) * 3 + c]);
    for (c, out) in px.iter_mut().enumerate() {
        let top = at(x0, y0, c) + (at(x1, y0, c) - at(x0, y0, c)) * dx;
        let bottom = at(x0, y1, c) + (at(x1, y1, c) - at(x0, y1, c)) * dx;
        *out = (top + (bottom - top) * dy + 0.5).clamp(0.0, 255.0) as u8;
    }
}

/// Mirrors a u8 HWC image left-right in place.
pub fn flip_horizontal(img: &mut [u8], width: usize) {
    for row in img.chunks_exact_mut(width * 3) {
        let (mut l, mut r) = (0, width - 1);
        while l < r {
            for c in 0..3 {
                row.swap(l * 3 + c, r * 3 + c);
            }
            l += 1;
            r -= 1;
        }
    }
}

/// Reflection without repeating the edge (torchvision's "reflect" padding).
fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let m = i.rem_euclid(period);
    (if m >= n { period - m } else { m }) as usize
}

/// Reflect-pads a side x side image by `pad`, then crops side x side at
/// (`left`, `top`) of the padded image, optionally mirroring the crop: one
/// pass instead of three.
pub fn pad_crop_flip(src: &[u8], side: usize, pad: usize, left: usize, top: usize, flip: bool, dst: &mut [u8]) {
    let cols: Vec<usize> = (0..side)
        .map(|x| {
            let x = if flip { side - 1 - x } else { x };
            reflect(x as isize + left as isize - pad as isize, side)
        })
        .collect();
    for (y, row) in dst.chunks_exact_mut(side * 3).enumerate() {
        let sy = reflect(y as isize + top as isize - pad as isize, side);
        let src_row = &src[sy * side * 3..(sy + 1) * side * 3];
        for (px, &sx) in row.chunks_exact_mut(3).zip(&cols) {
            px.copy_from_slice(&src_row[sx * 3..sx * 3 + 3]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_matches_torch_reflect_padding() {
        let got: Vec<usize> = (-4..9).map(|i| reflect(i, 5)).collect();
        assert_eq!(got, vec![4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1, 0]);
    }

    #[test]
    fn identity_affine_copies_and_translation_fills() {
        let data: Vec<u8> = (0..4 * 3 * 3).map(|v| v as u8).collect();
        let src = Frame { data: &data, width: 4, height: 3 };
        for s in [Sampling::Nearest, Sampling::Bilinear] {
            let mut dst = vec![0u8; data.len()];
            warp_affine(&src, &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0], s, 9, &mut dst, 4);
            assert_eq!(dst, data);
            // Shift content right by one pixel: column 0 comes from outside.
            warp_affine(&src, &[1.0, 0.0, -1.0, 0.0, 1.0, 0.0], s, 9, &mut dst, 4);
            assert_eq!(&dst[..3], &[9, 9, 9]);
            assert_eq!(&dst[3..6], &data[..3]);
        }
    }

    #[test]
    fn flip_twice_is_identity() {
        let data: Vec<u8> = (0..5 * 2 * 3).map(|v| v as u8).collect();
        let mut img = data.clone();
        flip_horizontal(&mut img, 5);
        assert_eq!(&img[..3], &data[12..15]);
        flip_horizontal(&mut img, 5);
        assert_eq!(img, data);
    }
}
