//! `Backward::PerNetwork` (the default: one network's activations alive at a
//! time) against `Backward::Once` (the reference's single backward pass):
//! bitwise the same weights, BatchNorm statistics, Adam moments and step
//! numbers after several steps of every kind.

mod train_support;

use man_core::train::{Backward, LossWeights, StepStats, Trainer};
use tch::Tensor;
use train_support::{assert_same_state, images, options};

fn pair(seed: i64) -> (Trainer, Trainer) {
    let make = |backward| {
        let mut o = options(3, seed);
        o.backward = backward;
        Trainer::new(&o).unwrap()
    };
    (make(Backward::Once), make(Backward::PerNetwork))
}

fn same_stats(a: &StepStats, b: &StepStats) {
    assert_eq!(a, b);
    assert!(a.loss.is_finite());
}

/// Runs `step` on both trainers `n` times and checks they stay bitwise equal.
fn check(seed: i64, n: usize, mut step: impl FnMut(&mut Trainer, usize) -> StepStats) {
    let (mut once, mut per) = pair(seed);
    for i in 0..n {
        same_stats(&step(&mut once, i), &step(&mut per, i));
        assert_same_state(&once, &per);
    }
}

#[test]
fn the_default_is_per_network() {
    assert_eq!(Backward::default(), Backward::PerNetwork);
    assert_eq!(Backward::parse("once").unwrap(), Backward::Once);
    assert!(Backward::parse("twice").unwrap_err().to_string().contains("runtime.backward"));
}

#[test]
fn warmup_steps_give_bitwise_the_same_weights() {
    let labels = [0, 1, 2, 1, 0, 2];
    check(11, 3, |t, i| t.warmup_step_tensors(&images(6, 40, i as f64), &labels).unwrap());
}

fn codivision(t: &mut Trainer, i: usize, codes: &[u8], w: LossWeights) -> StepStats {
    let n = codes.len() as i64;
    let noisy = codes.iter().filter(|&&c| c == 2).count() as i64;
    let weak = images(n, 40, 3.0 + i as f64);
    let strong: Option<Tensor> = (noisy > 0).then(|| images(noisy, 40, 7.0 + i as f64));
    let labels: Vec<i32> = (0..n as i32).map(|k| k % 3).collect();
    t.codivision_step_tensors(&weak, strong.as_ref(), &labels, codes, w).unwrap()
}

const MIXED: [u8; 8] = [0, 1, 2, 0, 2, 1, 0, 1];

#[test]
fn codivision_steps_give_bitwise_the_same_weights() {
    let w = LossWeights::new(0.4, 0.6, 1.0);
    check(12, 3, |t, i| codivision(t, i, &MIXED, w));
}

#[test]
fn a_detached_weak_target_and_lone_subsets_give_the_same_weights() {
    let w = LossWeights { detach_weak: true, ..LossWeights::new(0.7, 0.5, 2.0) };
    check(13, 2, |t, i| codivision(t, i, &MIXED, w));
    let w = LossWeights::new(0.4, 0.6, 1.0);
    check(14, 2, |t, i| codivision(t, i, &[1; 5], w));
    check(15, 2, |t, i| codivision(t, i, &[2; 3], w));
}

#[test]
fn joint_passes_give_bitwise_the_same_weights() {
    let w = LossWeights { joint: true, ..LossWeights::new(0.4, 0.6, 1.0) };
    check(16, 3, |t, i| codivision(t, i, &MIXED, w));
}

#[test]
fn batch_share_weighting_gives_bitwise_the_same_weights() {
    // The defaults: joint passes, a fixed weak target, terms weighted by their share of the batch.
    let w = LossWeights { joint: true, detach_weak: true, batch_share: true, ..LossWeights::new(0.4, 0.6, 1.0) };
    check(18, 3, |t, i| codivision(t, i, &MIXED, w));
    let w = LossWeights { batch_share: true, ..LossWeights::new(0.4, 0.6, 1.0) };
    check(19, 2, |t, i| codivision(t, i, &MIXED, w));
}

#[test]
fn a_subset_batchnorm_cannot_train_on_is_counted_the_same_way() {
    // One ambiguous sample at 32 px: 1×1 maps, counted in eval mode, not trained.
    let w = LossWeights::new(0.4, 0.6, 1.0);
    check(17, 2, |t, i| {
        let weak = images(4, 32, 1.0 + i as f64);
        let strong = images(1, 32, 2.0);
        t.codivision_step_tensors(&weak, Some(&strong), &[0, 1, 2, 1], &[0, 1, 2, 0], w).unwrap()
    });
}
