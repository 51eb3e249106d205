//! Histogram and bit-depth operations of RandAugment, per channel, with
//! PIL's ImageOps rules.

/// Stretches each channel so its darkest value becomes 0 and brightest 255.
pub fn autocontrast(img: &mut [u8]) {
    let mut luts = [[0u8; 256]; 3];
    for (c, lut) in luts.iter_mut().enumerate() {
        let (lo, hi) = img.iter().skip(c).step_by(3).fold((255u8, 0u8), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        for (i, slot) in lut.iter_mut().enumerate() {
            *slot = if hi <= lo {
                i as u8
            } else {
                let scale = 255.0 / f64::from(hi - lo);
                let offset = -f64::from(lo) * scale;
                (i as f64 * scale + offset).clamp(0.0, 255.0) as u8
            };
        }
    }
    apply_luts(img, &luts);
}

/// Flattens each channel's histogram (PIL ImageOps.equalize).
pub fn equalize(img: &mut [u8]) {
    let mut luts = [[0u8; 256]; 3];
    for (c, lut) in luts.iter_mut().enumerate() {
        let mut hist = [0usize; 256];
        for &v in img.iter().skip(c).step_by(3) {
            hist[usize::from(v)] += 1;
        }
        let last_nonzero = hist.iter().rev().copied().find(|&h| h > 0).unwrap_or(0);
        let used = hist.iter().filter(|&&h| h > 0).count();
        let step = (hist.iter().sum::<usize>() - last_nonzero) / 255;
        if used <= 1 || step == 0 {
            for (i, slot) in lut.iter_mut().enumerate() {
                *slot = i as u8;
            }
            continue;
        }
        let mut n = step / 2;
        for (slot, &h) in lut.iter_mut().zip(&hist) {
            *slot = (n / step).min(255) as u8;
            n += h;
        }
    }
    apply_luts(img, &luts);
}

/// Keeps the top `bits` bits of every value.
pub fn posterize(img: &mut [u8], bits: u32) {
    let mask = !((1u16 << (8 - bits)) - 1) as u8;
    img.iter_mut().for_each(|v| *v &= mask);
}

fn apply_luts(img: &mut [u8], luts: &[[u8; 256]; 3]) {
    for p in img.chunks_exact_mut(3) {
        for (v, lut) in p.iter_mut().zip(luts) {
            *v = lut[usize::from(*v)];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autocontrast_stretches_range() {
        let mut img = vec![51, 51, 51, 153, 153, 153];
        autocontrast(&mut img);
        assert_eq!(img, vec![0, 0, 0, 255, 255, 255]);
    }

    #[test]
    fn equalize_spreads_two_levels_and_keeps_constant() {
        let mut flat = vec![9u8; 30];
        equalize(&mut flat);
        assert_eq!(flat, vec![9u8; 30]);
        let mut img: Vec<u8> = (0..512 * 3).map(|i| if i < 256 * 3 { 100 } else { 101 }).collect();
        equalize(&mut img);
        assert_eq!(img[0], 0);
        assert_eq!(img[img.len() - 1], 255);
    }

    #[test]
    fn posterize_masks_low_bits() {
        let mut img = vec![0xFF, 0x1F, 0x80];
        posterize(&mut img, 4);
        assert_eq!(img, vec![0xF0, 0x10, 0x80]);
    }
}
