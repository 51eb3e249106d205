//! PIL's ImageEnhance operations on u8 HWC images: each blends the image with
//! a "degenerate" version (black, mean grey, greyscale, smoothed) by a factor;
//! factors above 1 extrapolate away from it. Rounding follows PIL's Blend
//! (truncate after clipping) and its L conversion (ITU-R 601-2, fixed point).

/// PIL's RGB -> L: (299 R + 587 G + 114 B) / 1000 in 16-bit fixed point.
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((u32::from(r) * 19595 + u32::from(g) * 38470 + u32::from(b) * 7471 + 0x8000) >> 16) as u8
}

fn blend(degenerate: f32, value: u8, factor: f32) -> u8 {
    let v = degenerate + factor * (f32::from(value) - degenerate);
    v.clamp(0.0, 255.0) as u8
}

/// Blend with black.
pub fn brightness(img: &mut [u8], factor: f32) {
    for v in img.iter_mut() {
        *v = blend(0.0, *v, factor);
    }
}

/// Blend with the mean grey level (rounded, as PIL does).
pub fn contrast(img: &mut [u8], factor: f32) {
    let pixels = (img.len() / 3).max(1);
    let total: u64 = img.chunks_exact(3).map(|p| u64::from(luma(p[0], p[1], p[2]))).sum();
    let mean = (total as f64 / pixels as f64 + 0.5).floor() as f32;
    for v in img.iter_mut() {
        *v = blend(mean, *v, factor);
    }
}

/// Blend with the pixel's own grey level (PIL's Color, torchvision's saturation).
pub fn saturation(img: &mut [u8], factor: f32) {
    for p in img.chunks_exact_mut(3) {
        let grey = f32::from(luma(p[0], p[1], p[2]));
        for v in p.iter_mut() {
            *v = blend(grey, *v, factor);
        }
    }
}

/// Blend with PIL's SMOOTH filter (3x3 kernel 1 1 1 / 1 5 1 / 1 1 1, over 13),
/// whose border pixels are left unfiltered. `smooth` is scratch space.
pub fn sharpness(img: &mut [u8], width: usize, height: usize, factor: f32, smooth: &mut Vec<u8>) {
    smooth.clear();
    smooth.extend_from_slice(img);
    if width < 3 || height < 3 {
        return; // all border: the smoothed image equals the input
    }
    let stride = width * 3;
    for y in 1..height - 1 {
        for x in 1..width - 1 {
            for c in 0..3 {
                let at = |dx: usize, dy: usize| u32::from(img[(y + dy - 1) * stride + (x + dx - 1) * 3 + c]);
                let sum = at(0, 0)
                    + at(1, 0)
                    + at(2, 0)
                    + at(0, 1)
                    + 5 * at(1, 1)
                    + at(2, 1)
                    + at(0, 2)
                    + at(1, 2)
                    + at(2, 2);
                smooth[y * stride + x * 3 + c] = ((sum as f32) / 13.0 + 0.5) as u8;
            }
        }
    }
    for (v, &s) in img.iter_mut().zip(smooth.iter()) {
        *v = blend(f32::from(s), *v, factor);
    }
}

/// Rotates hue by `shift` turns through PIL's 8-bit HSV, as torchvision's
/// adjust_hue does for PIL images (the hue byte wraps around).
pub fn hue(img: &mut [u8], shift: f64) {
    let delta = (shift * 255.0) as i32; // truncation, like np.uint8(x * 255)
    for p in img.chunks_exact_mut(3) {
        let (h, s, v) = rgb_to_hsv(p[0], p[1], p[2]);
        let h = (i32::from(h) + delta).rem_euclid(256) as u8;
        let (r, g, b) = hsv_to_rgb(h, s, v);
        p[0] = r;
        p[1] = g;
        p[2] = b;
    }
}

fn rgb_to_hsv(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let maxc = r.max(g).max(b);
    let minc = r.min(g).min(b);
    if maxc == minc {
        return (0, 0, maxc);
    }
    let (rf, gf, bf) = (f32::from(r), f32::from(g), f32::from(b));
    let (maxf, cr) = (f32::from(maxc), f32::from(maxc - minc));
    let s = cr / maxf;
    let rc = (maxf - rf) / cr;
    let gc = (maxf - gf) / cr;
    let bc = (maxf - bf) / cr;
    let h = if r == maxc {
        bc - gc
    } else if g == maxc {
        2.0 + rc - bc
    } else {
        4.0 + gc - rc
    };
    // h / 6 + 1 lies in [5/6, 11/6], so one subtraction is PIL's fmod(.., 1)
    // (and exact), without a libm call per pixel.
    let h = h / 6.0 + 1.0;
    let h = if h >= 1.0 { h - 1.0 } else { h };
    ((h * 255.0).clamp(0.0, 255.0) as u8, (s * 255.0).clamp(0.0, 255.0) as u8, maxc)
}

fn hsv_to_rgb(h: u8, s: u8, v: u8) -> (u8, u8, u8) {
    if s == 0 {
        return (v, v, v);
    }
    let hf = f32::from(h) * 6.0 / 255.0;
    let sf = f32::from(s) / 255.0;
    let vf = f32::from(v);
    // Everything here is non-negative: truncation is floor, +0.5 is round.
    let i = hf as i32;
    let f = hf - i as f32;
    let round = |x: f32| (x + 0.5).clamp(0.0, 255.0) as u8;
    let p = round(vf * (1.0 - sf));
    let q = round(vf * (1.0 - sf * f));
    let t = round(vf * (1.0 - sf * (1.0 - f)));
    match i % 6 {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_one_is_identity() {
        let orig: Vec<u8> = (0..6 * 5 * 3).map(|v| (v * 37 % 256) as u8).collect();
        let mut img = orig.clone();
        brightness(&mut img, 1.0);
        contrast(&mut img, 1.0);
        saturation(&mut img, 1.0);
        sharpness(&mut img, 6, 5, 1.0, &mut Vec::new());
        assert_eq!(img, orig);
    }

    #[test]
    fn brightness_scales_and_clips() {
        let mut img = vec![10, 100, 200];
        brightness(&mut img, 1.9);
        assert_eq!(img, vec![19, 190, 255]);
    }

    #[test]
    fn grey_pixels_survive_saturation_and_hue() {
        let mut img = vec![77u8; 3 * 4];
        saturation(&mut img, 1.9);
        hue(&mut img, 0.2);
        assert_eq!(img, vec![77u8; 12]);
    }

    #[test]
    fn hsv_round_trip_is_close_and_hue_moves_red() {
        for (r, g, b) in [(255u8, 0u8, 0u8), (10, 200, 30), (12, 34, 250), (128, 64, 32)] {
            let (h, s, v) = rgb_to_hsv(r, g, b);
            let (r2, g2, b2) = hsv_to_rgb(h, s, v);
            for (a, z) in [(r, r2), (g, g2), (b, b2)] {
                assert!((i32::from(a) - i32::from(z)).abs() <= 4, "{r},{g},{b} -> {r2},{g2},{b2}");
            }
        }
        let mut red = vec![255u8, 0, 0];
        hue(&mut red, 1.0 / 3.0);
        assert!(red[1] > 200 && red[0] < 60, "a third of a turn takes red to green: {red:?}");
    }
}
