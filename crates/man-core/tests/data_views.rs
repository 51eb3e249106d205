//! The three views: determinism, and that each augmentation does what
//! docs/method.md says (flip, erasing, cutout, constant-colour test view).

mod data_support;

use data_support::{normalised, opts, pixel, png, sample, textured};
use man_core::data::{Dataset, View};

const S: usize = 32;
const MB: usize = 1 << 20;

fn textured_dataset(threads: usize) -> Dataset {
    // Mixed sizes: upscaled, downscaled and already at S.
    let sizes = [(20, 16), (40, 48), (32, 32), (17, 23), (64, 30), (25, 25)];
    let items =
        sizes.iter().enumerate().map(|(i, &(w, h))| (format!("img{i}.png"), png(&textured(w, h, i as u32)))).collect();
    Dataset::from_buffers(items, opts(S as u32, threads, 64 * MB)).expect("dataset")
}

#[test]
fn views_are_identical_across_thread_counts_and_batch_compositions() {
    let one = textured_dataset(1);
    let four = textured_dataset(4);
    let all: Vec<u32> = (0..6).collect();
    for view in [View::Test, View::Weak, View::Strong] {
        let reference = one.batch(&all, view, 3, 0).expect("batch");
        assert_eq!(reference.len(), 6 * 3 * S * S);
        let again = four.batch(&all, view, 3, 0).expect("batch");
        assert_eq!(reference, again, "{view:?}: 1 vs 4 threads");
        for subset in [vec![5u32, 0, 3], vec![2], vec![4, 4, 1, 0, 5, 2, 3]] {
            let got = four.batch(&subset, view, 3, 0).expect("batch");
            for (pos, &index) in subset.iter().enumerate() {
                assert_eq!(
                    sample(&got, pos, S),
                    sample(&reference, index as usize, S),
                    "{view:?}: sample {index} in {subset:?}"
                );
            }
        }
    }
}

#[test]
fn random_views_change_with_epoch_salt_and_seed_but_test_view_does_not() {
    let ds = textured_dataset(2);
    let idx: Vec<u32> = (0..6).collect();
    for view in [View::Weak, View::Strong] {
        let base = ds.batch(&idx, view, 1, 0).expect("batch");
        assert_ne!(base, ds.batch(&idx, view, 2, 0).expect("batch"), "{view:?}: epoch");
        assert_ne!(base, ds.batch(&idx, view, 1, 1).expect("batch"), "{view:?}: salt");
    }
    let test = ds.batch(&idx, View::Test, 1, 0).expect("batch");
    assert_eq!(test, ds.batch(&idx, View::Test, 9, 5).expect("batch"));
    let mut other_seed = opts(S as u32, 2, 64 * MB);
    other_seed.seed = 7;
    let items = vec![("a.png".to_string(), png(&textured(20, 16, 0)))];
    let a = Dataset::from_buffers(items.clone(), opts(S as u32, 2, 64 * MB)).expect("dataset");
    let b = Dataset::from_buffers(items, other_seed).expect("dataset");
    assert_ne!(a.batch(&[0; 4], View::Strong, 0, 0).unwrap(), b.batch(&[0; 4], View::Strong, 0, 0).unwrap());
}

#[test]
fn weak_and_strong_differ_from_test_and_from_each_other() {
    let ds = textured_dataset(2);
    let n = 6;
    let idx: Vec<u32> = (0..n as u32).collect();
    let mut weak_changed = 0;
    for epoch in 0..4 {
        let test = ds.batch(&idx, View::Test, epoch, 0).unwrap();
        let weak = ds.batch(&idx, View::Weak, epoch, 0).unwrap();
        let strong = ds.batch(&idx, View::Strong, epoch, 0).unwrap();
        for i in 0..n {
            // Strong always crops, then always cuts out: never equal to either.
            assert_ne!(sample(&strong, i, S), sample(&test, i, S), "strong vs test, sample {i} epoch {epoch}");
            assert_ne!(sample(&strong, i, S), sample(&weak, i, S), "strong vs weak, sample {i} epoch {epoch}");
            weak_changed += usize::from(sample(&weak, i, S) != sample(&test, i, S));
        }
    }
    // Weak is untouched only with probability 1/8 (no flip, jitter or erase).
    assert!(weak_changed >= 16, "weak view changed only {weak_changed} of 24 samples");
}

#[test]
fn test_view_of_constant_colour_is_the_normalised_colour() {
    let colour = [200u8, 100, 50];
    let img = data_support::image(10, 7, |_, _| colour);
    let ds = Dataset::from_buffers(vec![("c.png".into(), png(&img))], opts(S as u32, 1, MB)).unwrap();
    let out = ds.batch(&[0], View::Test, 0, 0).unwrap();
    for (c, plane) in out.chunks_exact(S * S).enumerate() {
        let want = normalised(colour[c], c);
        for &v in plane {
            assert!((v - want).abs() < 1e-5, "channel {c}: {v} vs {want}");
        }
    }
}

#[test]
fn test_view_resizes_bilinearly() {
    // A 2x1 image (black, white) upscaled to 8 wide: PIL's bilinear gives a
    // ramp that is flat over the outer quarter-pixels.
    let img = data_support::image(2, 2, |x, _| if x == 0 { [0; 3] } else { [255; 3] });
    let ds = Dataset::from_buffers(vec![("r.png".into(), png(&img))], opts(8, 1, MB)).unwrap();
    let out = ds.batch(&[0], View::Test, 0, 0).unwrap();
    // Output centre x+0.5 maps to input 0.25*(x+0.5); weight of pixel 1 is
    // clamp(0.25*(x+0.5) - 0.5, 0, 1).
    for x in 0..8 {
        let t = (0.25 * (x as f32 + 0.5) - 0.5).clamp(0.0, 1.0);
        let want = normalised(0, 0) + t * (normalised(255, 0) - normalised(0, 0));
        let got = pixel(&out, 0, 8, x, 3)[0];
        assert!((got - want).abs() < 1e-4, "x={x}: {got} vs {want}");
    }
}

/// A left-dark / right-bright image already at S, so the test view is exact
/// and a mirror image is easy to recognise.
fn halves_dataset() -> Dataset {
    let img = data_support::image(S as u32, S as u32, |x, y| {
        if (x as usize) < S / 2 {
            [20, 40, 60]
        } else {
            [200, 180, (y * 4) as u8]
        }
    });
    Dataset::from_buffers(vec![("h.png".into(), png(&img))], opts(S as u32, 2, MB)).unwrap()
}

fn mirrored(img: &[f32]) -> Vec<f32> {
    img.chunks_exact(S).flat_map(|row| row.iter().rev().copied()).collect()
}

#[test]
fn weak_view_flips_and_erases_with_zero_rectangles() {
    let ds = halves_dataset();
    let test = ds.batch(&[0], View::Test, 0, 0).unwrap();
    let flipped = mirrored(&test);
    let draws = 64u32;
    let (mut plain, mut flips, mut erased) = (0, 0, 0);
    for epoch in 0..draws {
        let w = ds.batch(&[0], View::Weak, epoch, 0).unwrap();
        if w == test {
            plain += 1;
            continue;
        }
        if w == flipped {
            flips += 1;
            continue;
        }
        // Otherwise: if it matches a base image outside one all-zero
        // rectangle, that is random erasing on an un-jittered sample.
        for base in [&test, &flipped] {
            let diff: Vec<usize> =
                (0..S * S).filter(|&p| (0..3).any(|c| w[c * S * S + p] != base[c * S * S + p])).collect();
            if diff.is_empty() {
                continue;
            }
            let (xs, ys): (Vec<usize>, Vec<usize>) = diff.iter().map(|p| (p % S, p / S)).unzip();
            let (x0, x1) = (*xs.iter().min().unwrap(), *xs.iter().max().unwrap());
            let (y0, y1) = (*ys.iter().min().unwrap(), *ys.iter().max().unwrap());
            let in_box = (y0..=y1).flat_map(|y| (x0..=x1).map(move |x| (x, y)));
            if in_box.clone().all(|(x, y)| (0..3).all(|c| w[c * S * S + y * S + x] == 0.0)) {
                let frac = ((x1 - x0 + 1) * (y1 - y0 + 1)) as f64 / (S * S) as f64;
                assert!((0.01..=0.3).contains(&frac), "erased fraction {frac}");
                erased += 1;
                break;
            }
        }
    }
    // Each of the three cases has probability 1/8 per draw.
    assert!(plain >= 2, "unaugmented weak views: {plain}/{draws}");
    assert!(flips >= 2, "flip-only weak views: {flips}/{draws}");
    assert!(erased >= 2, "erase-only weak views: {erased}/{draws}");
}

#[test]
fn strong_view_always_has_a_grey_cutout() {
    // A constant non-grey colour stays one constant colour under every colour
    // op, so grey pixels come only from the cutout and geometric fill.
    let img = data_support::image(12, 12, |_, _| [30, 160, 90]);
    let ds = Dataset::from_buffers(vec![("k.png".into(), png(&img))], opts(S as u32, 2, MB)).unwrap();
    let grey: [f32; 3] = [0, 1, 2].map(|c| normalised(128, c));
    let mut clean_boxes = 0;
    let draws = 40;
    for epoch in 0..draws {
        let out = ds.batch(&[0], View::Strong, epoch, 0).unwrap();
        let is_grey = |x: usize, y: usize| {
            let p = pixel(&out, 0, S, x, y);
            (0..3).all(|c| (p[c] - grey[c]).abs() < 1e-6)
        };
        let greys: Vec<(usize, usize)> =
            (0..S).flat_map(|y| (0..S).map(move |x| (x, y))).filter(|&(x, y)| is_grey(x, y)).collect();
        assert!(greys.len() >= 64, "epoch {epoch}: only {} grey pixels", greys.len());
        let (x0, x1) = (greys.iter().map(|p| p.0).min().unwrap(), greys.iter().map(|p| p.0).max().unwrap());
        let (y0, y1) = (greys.iter().map(|p| p.1).min().unwrap(), greys.iter().map(|p| p.1).max().unwrap());
        let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
        // Fill from a translation is a full-length band, from rotation or
        // shear a triangle: a solid grey box of at most 16x16 is the cutout
        // alone, a full square or one clipped by the borders.
        if w * h == greys.len() && w <= 16 && h <= 16 {
            assert!(w >= 8 && h >= 8, "epoch {epoch}: cutout {w}x{h}");
            if w < 16 {
                assert!(x0 == 0 || x1 == S - 1, "epoch {epoch}: narrow cutout away from the border");
            }
            if h < 16 {
                assert!(y0 == 0 || y1 == S - 1, "epoch {epoch}: short cutout away from the border");
            }
            clean_boxes += 1;
        }
    }
    // No geometric op in a draw has probability about (1 - 5/28)^2 = 0.67.
    assert!(clean_boxes >= draws / 3, "clean cutouts: {clean_boxes}/{draws}");
}
