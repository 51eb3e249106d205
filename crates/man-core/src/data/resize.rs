//! Separable bilinear resampling with PIL's conventions (pixel centres at
//! +0.5, triangle filter widened when shrinking, so downscaling antialiases
//! as torchvision's Resize on PIL images does). Two passes: horizontal into an
//! f32 scratch, then vertical, either back to u8 HWC or straight into
//! normalised f32 CHW (the fused path of the test and weak views).

use super::normalise::Normaliser;

/// Per output coordinate: the first input index and `taps` weights summing to 1.
struct Taps {
    start: Vec<usize>,
    weights: Vec<f32>,
    taps: usize,
}

impl Taps {
    fn new(in_size: usize, out_size: usize) -> Self {
        let scale = in_size as f64 / out_size as f64;
        let filterscale = scale.max(1.0);
        let support = filterscale; // triangle filter: support 1 at unit scale
        let taps = ((support.ceil() as usize) * 2 + 1).min(in_size);
        let mut start = Vec::with_capacity(out_size);
        let mut weights = vec![0f32; out_size * taps];
        for (o, k) in weights.chunks_exact_mut(taps).enumerate() {
            let center = (o as f64 + 0.5) * scale;
            // Truncation as in PIL (values are >= -0.5, so the clamp fixes the sign).
            let lo = ((center - support + 0.5) as i64).max(0) as usize;
            let hi = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            // Windows are shifted to lie inside the input so the loops need no
            // bounds logic; the weights move with them.
            let first = lo.min(in_size - taps);
            let mut total = 0.0;
            for (i, w) in k.iter_mut().enumerate() {
                let pos = first + i;
                if pos >= lo && pos < hi {
                    let x = (pos as f64 - center + 0.5) / filterscale;
                    let v = (1.0 - x.abs()).max(0.0);
                    *w = v as f32;
                    total += v;
                }
            }
            if total > 0.0 {
                let inv = (1.0 / total) as f32;
                k.iter_mut().for_each(|w| *w *= inv);
            }
            start.push(first);
        }
        Taps { start, weights, taps }
    }

    fn weights(&self, o: usize) -> &[f32] {
        &self.weights[o * self.taps..(o + 1) * self.taps]
    }
}

/// Taps for the last (input, output) sizes seen; a dataset's images mostly
/// share one size, so this is nearly always a hit.
#[derive(Default)]
struct TapsCache(Option<(usize, usize, Taps)>);

impl TapsCache {
    fn get(&mut self, in_size: usize, out_size: usize) -> &Taps {
        if !matches!(&self.0, Some((i, o, _)) if *i == in_size && *o == out_size) {
            self.0 = Some((in_size, out_size, Taps::new(in_size, out_size)));
        }
        &self.0.as_ref().expect("just filled").2
    }
}

/// Horizontal pass: every input row resampled to `out_w` pixels (f32 HWC).
fn horizontal(src: &[u8], in_w: usize, in_h: usize, taps: &Taps, tmp: &mut Vec<f32>) {
    let out_w = taps.start.len();
    tmp.clear();
    tmp.resize(in_h * out_w * 3, 0.0);
    for (row_in, row_out) in src.chunks_exact(in_w * 3).zip(tmp.chunks_exact_mut(out_w * 3)) {
        for (o, px) in row_out.chunks_exact_mut(3).enumerate() {
            let base = taps.start[o] * 3;
            let (mut r, mut g, mut b) = (0f32, 0f32, 0f32);
            for (i, &w) in taps.weights(o).iter().enumerate() {
                let p = &row_in[base + i * 3..base + i * 3 + 3];
                r += w * f32::from(p[0]);
                g += w * f32::from(p[1]);
                b += w * f32::from(p[2]);
            }
            px[0] = r;
            px[1] = g;
            px[2] = b;
        }
    }
}

/// Vertical pass for output row `o`: a weighted sum of rows of `tmp`.
fn vertical_row(tmp: &[f32], row_len: usize, taps: &Taps, o: usize, acc: &mut [f32]) {
    acc.fill(0.0);
    let start = taps.start[o];
    for (i, &w) in taps.weights(o).iter().enumerate() {
        if w == 0.0 {
            continue;
        }
        let row = &tmp[(start + i) * row_len..(start + i + 1) * row_len];
        for (a, &v) in acc.iter_mut().zip(row) {
            *a += w * v;
        }
    }
}

/// Buffers reused across samples so the hot loop allocates nothing.
#[derive(Default)]
pub struct ResizeScratch {
    tmp: Vec<f32>,
    acc: Vec<f32>,
    horizontal: TapsCache,
    vertical: TapsCache,
}

/// Resizes u8 HWC `src` (in_w x in_h) into u8 HWC `dst` (out x out).
pub fn resize_u8(src: &[u8], in_w: usize, in_h: usize, out: usize, dst: &mut [u8], s: &mut ResizeScratch) {
    horizontal(src, in_w, in_h, s.horizontal.get(in_w, out), &mut s.tmp);
    let taps = s.vertical.get(in_h, out);
    let row_len = out * 3;
    s.acc.resize(row_len, 0.0);
    for (o, row_out) in dst.chunks_exact_mut(row_len).enumerate() {
        vertical_row(&s.tmp, row_len, taps, o, &mut s.acc);
        for (d, &v) in row_out.iter_mut().zip(&s.acc) {
            *d = (v + 0.5).clamp(0.0, 255.0) as u8;
        }
    }
}

/// Resizes u8 HWC `src` and writes normalised f32 CHW into `dst` (3*out*out).
pub fn resize_normalise_chw(
    src: &[u8],
    in_w: usize,
    in_h: usize,
    out: usize,
    norm: &Normaliser,
    dst: &mut [f32],
    s: &mut ResizeScratch,
) {
    horizontal(src, in_w, in_h, s.horizontal.get(in_w, out), &mut s.tmp);
    let taps = s.vertical.get(in_h, out);
    let row_len = out * 3;
    let plane = out * out;
    s.acc.resize(row_len, 0.0);
    let (scale, bias) = (norm.scale, norm.bias);
    for o in 0..out {
        vertical_row(&s.tmp, row_len, taps, o, &mut s.acc);
        let (r_plane, rest) = dst.split_at_mut(plane);
        let (g_plane, b_plane) = rest.split_at_mut(plane);
        let row = o * out..(o + 1) * out;
        for (((px, r), g), b) in
            s.acc.chunks_exact(3).zip(&mut r_plane[row.clone()]).zip(&mut g_plane[row.clone()]).zip(&mut b_plane[row])
        {
            // Clamp like the u8 round trip of PIL would, so overshoot cannot leak.
            *r = px[0].clamp(0.0, 255.0) * scale[0] + bias[0];
            *g = px[1].clamp(0.0, 255.0) * scale[1] + bias[1];
            *b = px[2].clamp(0.0, 255.0) * scale[2] + bias[2];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_and_identity_is_exact() {
        for (i, o) in [(100, 224), (100, 112), (300, 224), (5, 5), (224, 100), (3, 40)] {
            let t = Taps::new(i, o);
            for k in 0..o {
                let sum: f32 = t.weights(k).iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "{i}->{o} at {k}: {sum}");
                assert!(t.start[k] + t.taps <= i);
            }
        }
        let src: Vec<u8> = (0..5 * 4 * 3).map(|v| (v * 7 % 256) as u8).collect();
        let mut dst = vec![0u8; 5 * 5 * 3];
        // 5x4 -> 5x5 is not identity; 5x5 -> 5x5 is.
        let sq: Vec<u8> = (0..5 * 5 * 3).map(|v| (v * 11 % 256) as u8).collect();
        resize_u8(&sq, 5, 5, 5, &mut dst, &mut ResizeScratch::default());
        assert_eq!(dst, sq);
        let mut dst2 = vec![0u8; 5 * 5 * 3];
        resize_u8(&src, 5, 4, 5, &mut dst2, &mut ResizeScratch::default());
        assert_eq!(&dst2[..15], &src[..15], "first row keeps its values horizontally");
    }
}
