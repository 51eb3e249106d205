//! Per-sample randomness. Every view draws from its own generator seeded by
//! hashing (seed, epoch, sample, view, salt), so a view never depends on which
//! thread builds it or which other samples share its batch.

/// One step of splitmix64: a bijective 64-bit mixer with full avalanche.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Folds the identifying fields one by one; each fold re-mixes, so fields that
/// differ in any bit give unrelated streams.
pub fn sample_seed(seed: u64, epoch: u32, index: u32, view: u64, salt: u64) -> u64 {
    [u64::from(epoch), u64::from(index), view, salt]
        .iter()
        .fold(splitmix64(seed), |h, &field| splitmix64(h ^ splitmix64(field)))
}

/// xoshiro256++: small, fast and statistically solid for augmentation draws.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut s = [0u64; 4];
        for slot in &mut s {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            *slot = splitmix64(x);
        }
        Rng { s }
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform integer in [0, n); n must be > 0. Multiply-shift keeps the bias
    /// below 2^-32 for the small ranges used here.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// +1.0 or -1.0 with equal probability.
    pub fn sign(&mut self) -> f64 {
        if self.next_u64() >> 63 == 0 {
            1.0
        } else {
            -1.0
        }
    }

    /// A uniformly random permutation of 0..N (Fisher-Yates).
    pub fn permutation<const N: usize>(&mut self) -> [usize; N] {
        let mut p = [0usize; N];
        for (i, v) in p.iter_mut().enumerate() {
            *v = i;
        }
        for i in (1..N).rev() {
            let j = self.below(i as u64 + 1) as usize;
            p.swap(i, j);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ_per_field() {
        let base = sample_seed(1, 2, 3, 4, 5);
        assert_ne!(base, sample_seed(0, 2, 3, 4, 5));
        assert_ne!(base, sample_seed(1, 0, 3, 4, 5));
        assert_ne!(base, sample_seed(1, 2, 0, 4, 5));
        assert_ne!(base, sample_seed(1, 2, 3, 0, 5));
        assert_ne!(base, sample_seed(1, 2, 3, 4, 0));
        assert_eq!(base, sample_seed(1, 2, 3, 4, 5));
    }

    #[test]
    fn unit_and_below_stay_in_range() {
        let mut r = Rng::new(7);
        let mut hits = [0u32; 5];
        for _ in 0..10_000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
            hits[r.below(5) as usize] += 1;
        }
        assert!(hits.iter().all(|&h| h > 1_800 && h < 2_200), "{hits:?}");
        let mut seen = r.permutation::<4>();
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2, 3]);
    }
}
