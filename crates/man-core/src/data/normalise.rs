//! ImageNet normalisation, u8 HWC -> f32 CHW, and the rectangle fills that
//! happen after normalising (random erasing).

pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// `(v / 255 - mean) / std` as one multiply-add per value, plus a lookup table
/// for u8 inputs.
pub struct Normaliser {
    pub scale: [f32; 3],
    pub bias: [f32; 3],
    lut: [[f32; 256]; 3],
}

impl Normaliser {
    pub fn imagenet() -> Self {
        let mut scale = [0f32; 3];
        let mut bias = [0f32; 3];
        let mut lut = [[0f32; 256]; 3];
        for c in 0..3 {
            scale[c] = 1.0 / (255.0 * IMAGENET_STD[c]);
            bias[c] = -IMAGENET_MEAN[c] / IMAGENET_STD[c];
            for (v, slot) in lut[c].iter_mut().enumerate() {
                *slot = (v as f32 / 255.0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
            }
        }
        Normaliser { scale, bias, lut }
    }

    /// u8 HWC (side x side) -> normalised f32 CHW.
    pub fn hwc_to_chw(&self, src: &[u8], side: usize, dst: &mut [f32]) {
        let plane = side * side;
        let (r, rest) = dst.split_at_mut(plane);
        let (g, b) = rest.split_at_mut(plane);
        for (((px, r), g), b) in src.chunks_exact(3).zip(r).zip(g).zip(b) {
            *r = self.lut[0][usize::from(px[0])];
            *g = self.lut[1][usize::from(px[1])];
            *b = self.lut[2][usize::from(px[2])];
        }
    }
}

/// An axis-aligned rectangle inside a side x side image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub top: usize,
    pub left: usize,
    pub height: usize,
    pub width: usize,
}

/// Sets `rect` to `value` in every channel of a CHW image.
pub fn fill_chw(dst: &mut [f32], side: usize, rect: Rect, value: f32) {
    for plane in dst.chunks_exact_mut(side * side) {
        for y in rect.top..rect.top + rect.height {
            plane[y * side + rect.left..y * side + rect.left + rect.width].fill(value);
        }
    }
}

/// Sets `rect` to grey `value` in a u8 HWC image.
pub fn fill_hwc(dst: &mut [u8], side: usize, rect: Rect, value: u8) {
    for y in rect.top..rect.top + rect.height {
        dst[(y * side + rect.left) * 3..(y * side + rect.left + rect.width) * 3].fill(value);
    }
}
