//! The three views of docs/method.md, each writing one normalised f32 CHW image
//! (3 x side x side) from decoded pixels and a per-sample generator.

use super::enhance;
use super::geometry::{flip_horizontal, pad_crop_flip, warp_affine, Affine, Frame, Sampling};
use super::image::Rgb8;
use super::normalise::{fill_chw, fill_hwc, Normaliser, Rect};
use super::resize::{resize_normalise_chw, resize_u8, ResizeScratch};
use super::rng::Rng;
use super::tone;

const JITTER: f64 = 0.25;
const HUE: f64 = 0.25;
const AFFINE_TRANSLATE: f64 = 0.1;
const AFFINE_SCALE: (f64, f64) = (1.0, 1.25);
const ERASE_P: f64 = 0.5;
const ERASE_AREA: (f64, f64) = (0.02, 0.25);
const ERASE_ASPECT: (f64, f64) = (0.3, 3.3);
const CROP_PAD: usize = 4;
const RANDAUGMENT_OPS: usize = 2;
const ENHANCE_FACTOR: f32 = 1.9;
const ROTATE_DEGREES: f64 = 30.0;
const SHEAR: f64 = 0.3;
const TRANSLATE_PX: f64 = 10.0;
const POSTERIZE_BITS: u32 = 4;
const GREY: u8 = 128;
const CUTOUT: usize = 16;

/// Buffers a worker reuses from sample to sample.
#[derive(Default)]
pub struct Scratch {
    a: Vec<u8>,
    b: Vec<u8>,
    smooth: Vec<u8>,
    resize: ResizeScratch,
}

pub fn test_view(img: &Rgb8, side: usize, norm: &Normaliser, out: &mut [f32], s: &mut Scratch) {
    resize_normalise_chw(&img.data, img.width, img.height, side, norm, out, &mut s.resize);
}

/// Flip; with p=0.5 colour jitter then affine (at the original resolution,
/// before the resize, as the reference's transform list orders them);
/// resize + normalise; random erasing.
pub fn weak_view(img: &Rgb8, side: usize, norm: &Normaliser, rng: &mut Rng, out: &mut [f32], s: &mut Scratch) {
    let (w, h) = (img.width, img.height);
    let flip = rng.chance(0.5);
    let jitter_and_affine = rng.chance(0.5);
    if !flip && !jitter_and_affine {
        resize_normalise_chw(&img.data, w, h, side, norm, out, &mut s.resize);
    } else {
        s.a.clear();
        s.a.extend_from_slice(&img.data);
        if flip {
            flip_horizontal(&mut s.a, w);
        }
        if jitter_and_affine {
            colour_jitter(&mut s.a, rng);
            random_affine(w, h, rng, s);
        }
        resize_normalise_chw(&s.a, w, h, side, norm, out, &mut s.resize);
    }
    if rng.chance(ERASE_P) {
        if let Some(rect) = erase_rect(side, rng) {
            fill_chw(out, side, rect, 0.0);
        }
    }
}

/// torchvision ColorJitter(0.25, 0.25, 0.25, 0.25): the four adjustments in a
/// random order, every factor drawn up front.
fn colour_jitter(img: &mut [u8], rng: &mut Rng) {
    let order = rng.permutation::<4>();
    let b = rng.uniform(1.0 - JITTER, 1.0 + JITTER) as f32;
    let c = rng.uniform(1.0 - JITTER, 1.0 + JITTER) as f32;
    let sat = rng.uniform(1.0 - JITTER, 1.0 + JITTER) as f32;
    let hue = rng.uniform(-HUE, HUE);
    for op in order {
        match op {
            0 => enhance::brightness(img, b),
            1 => enhance::contrast(img, c),
            2 => enhance::saturation(img, sat),
            _ => enhance::hue(img, hue),
        }
    }
}

/// torchvision RandomAffine(degrees=0, translate=(0.1, 0.1), scale=(1, 1.25)),
/// bilinear, fill 0, about the image centre. Reads and writes `s.a`.
fn random_affine(w: usize, h: usize, rng: &mut Rng, s: &mut Scratch) {
    let max_dx = AFFINE_TRANSLATE * w as f64;
    let max_dy = AFFINE_TRANSLATE * h as f64;
    let tx = rng.uniform(-max_dx, max_dx).round();
    let ty = rng.uniform(-max_dy, max_dy).round();
    let scale = rng.uniform(AFFINE_SCALE.0, AFFINE_SCALE.1);
    let (cx, cy) = (w as f64 * 0.5, h as f64 * 0.5);
    let inv = 1.0 / scale;
    let m: Affine = [inv, 0.0, cx - (cx + tx) * inv, 0.0, inv, cy - (cy + ty) * inv];
    s.b.resize(s.a.len(), 0);
    warp_affine(&Frame { data: &s.a, width: w, height: h }, &m, Sampling::Bilinear, 0, &mut s.b, w);
    std::mem::swap(&mut s.a, &mut s.b);
}

/// torchvision RandomErasing's rectangle: up to 10 tries to fit one.
fn erase_rect(side: usize, rng: &mut Rng) -> Option<Rect> {
    let area = (side * side) as f64;
    let (log_lo, log_hi) = (ERASE_ASPECT.0.ln(), ERASE_ASPECT.1.ln());
    for _ in 0..10 {
        let target = area * rng.uniform(ERASE_AREA.0, ERASE_AREA.1);
        let aspect = rng.uniform(log_lo, log_hi).exp();
        let height = (target * aspect).sqrt().round() as usize;
        let width = (target / aspect).sqrt().round() as usize;
        if height == 0 || width == 0 || height >= side || width >= side {
            continue;
        }
        let top = rng.below((side - height + 1) as u64) as usize;
        let left = rng.below((side - width + 1) as u64) as usize;
        return Some(Rect { top, left, height, width });
    }
    None
}

/// Resize; reflect-pad 4 + random crop; flip; RandAugment (2 ops of 14, each
/// with p=0.5); 16x16 grey cutout; normalise.
pub fn strong_view(img: &Rgb8, side: usize, norm: &Normaliser, rng: &mut Rng, out: &mut [f32], s: &mut Scratch) {
    let len = side * side * 3;
    s.a.resize(len, 0);
    s.b.resize(len, 0);
    resize_u8(&img.data, img.width, img.height, side, &mut s.a, &mut s.resize);
    let left = rng.below(2 * CROP_PAD as u64 + 1) as usize;
    let top = rng.below(2 * CROP_PAD as u64 + 1) as usize;
    let flip = rng.chance(0.5);
    pad_crop_flip(&s.a, side, CROP_PAD, left, top, flip, &mut s.b);
    std::mem::swap(&mut s.a, &mut s.b);
    for _ in 0..RANDAUGMENT_OPS {
        let op = rng.below(14);
        let sign = rng.sign();
        if rng.chance(0.5) {
            randaugment_op(op, sign, side, s);
        }
    }
    let cx = rng.below(side as u64) as usize;
    let cy = rng.below(side as u64) as usize;
    fill_hwc(&mut s.a, side, cutout_rect(cx, cy, side), GREY);
    norm.hwc_to_chw(&s.a, side, out);
}

/// The CUTOUT x CUTOUT square centred at (cx, cy), clipped to the image.
pub fn cutout_rect(cx: usize, cy: usize, side: usize) -> Rect {
    let half = CUTOUT / 2;
    let (x0, y0) = (cx.saturating_sub(half), cy.saturating_sub(half));
    let (x1, y1) = ((cx + CUTOUT - half).min(side), (cy + CUTOUT - half).min(side));
    Rect { top: y0, left: x0, height: y1 - y0, width: x1 - x0 }
}

/// One RandAugment operation on `s.a` (side x side u8 HWC), fixed magnitude.
fn randaugment_op(op: u64, sign: f64, side: usize, s: &mut Scratch) {
    let c = side as f64 * 0.5;
    let geometric = |m: Affine, s: &mut Scratch| {
        warp_affine(&Frame { data: &s.a, width: side, height: side }, &m, Sampling::Nearest, GREY, &mut s.b, side);
        std::mem::swap(&mut s.a, &mut s.b);
    };
    match op {
        0 => {} // Identity
        1 => tone::autocontrast(&mut s.a),
        2 => tone::equalize(&mut s.a),
        3 => {
            // PIL rotate: counter-clockwise by the angle about the centre.
            let t = -(sign * ROTATE_DEGREES).to_radians();
            let (sin, cos) = t.sin_cos();
            geometric([cos, sin, c - cos * c - sin * c, -sin, cos, c + sin * c - cos * c], s);
        }
        4 => {} // Solarize with threshold 256 inverts nothing
        5 => enhance::saturation(&mut s.a, ENHANCE_FACTOR),
        6 => enhance::contrast(&mut s.a, ENHANCE_FACTOR),
        7 => enhance::brightness(&mut s.a, ENHANCE_FACTOR),
        8 => enhance::sharpness(&mut s.a, side, side, ENHANCE_FACTOR, &mut s.smooth),
        9 => geometric([1.0, sign * SHEAR, 0.0, 0.0, 1.0, 0.0], s),
        10 => geometric([1.0, 0.0, 0.0, sign * SHEAR, 1.0, 0.0], s),
        11 => geometric([1.0, 0.0, sign * TRANSLATE_PX, 0.0, 1.0, 0.0], s),
        12 => geometric([1.0, 0.0, 0.0, 0.0, 1.0, sign * TRANSLATE_PX], s),
        _ => tone::posterize(&mut s.a, POSTERIZE_BITS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutout_is_clipped_at_borders() {
        assert_eq!(cutout_rect(0, 0, 32), Rect { top: 0, left: 0, height: 8, width: 8 });
        assert_eq!(cutout_rect(16, 16, 32), Rect { top: 8, left: 8, height: 16, width: 16 });
        assert_eq!(cutout_rect(31, 30, 32), Rect { top: 22, left: 23, height: 10, width: 9 });
    }

    #[test]
    fn erase_rect_fits_and_respects_area() {
        let mut rng = Rng::new(3);
        for _ in 0..500 {
            let r = erase_rect(64, &mut rng).expect("a 64px image always fits a rectangle within 10 tries");
            assert!(r.top + r.height <= 64 && r.left + r.width <= 64);
            let frac = (r.height * r.width) as f64 / 4096.0;
            assert!(frac > 0.01 && frac < 0.3, "{frac}");
        }
    }

    #[test]
    fn every_randaugment_op_keeps_size_and_geometric_ops_fill_grey() {
        let side = 24;
        let base: Vec<u8> = (0..side * side * 3).map(|v| (v * 13 % 251) as u8).collect();
        for op in 0..14 {
            let mut s = Scratch { a: base.clone(), b: vec![0; base.len()], ..Scratch::default() };
            randaugment_op(op, 1.0, side, &mut s);
            assert_eq!(s.a.len(), base.len());
            let changed = s.a != base;
            assert_eq!(changed, !matches!(op, 0 | 4), "op {op}");
            // Rotation empties the corners; positive shear/translation the
            // bottom-right corner.
            let probe = if op == 3 { 0 } else { base.len() - 3 };
            if matches!(op, 3 | 9 | 10 | 11 | 12) {
                assert_eq!(&s.a[probe..probe + 3], &[GREY; 3], "op {op} brings in grey fill");
            }
        }
        let mut s = Scratch { a: base.clone(), b: vec![0; base.len()], ..Scratch::default() };
        randaugment_op(11, 1.0, side, &mut s);
        // TranslateX +10: output x reads input x + 10, so the last 10 columns are fill.
        assert_eq!(&s.a[..3], &base[30..33]);
        assert_eq!(&s.a[(side - 1) * 3..side * 3], &[GREY; 3]);
    }
}
