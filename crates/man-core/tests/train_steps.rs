//! Warm-up and co-division steps on tiny tensors (no images needed).

mod train_support;

use man_core::train::precision::{self, Precision, PrecisionRequest};
use man_core::train::LossWeights;
use train_support::{assert_same_state, images, trainer};

const W: LossWeights = LossWeights::new(0.4, 0.6, 1.0);

fn rel_close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-5 * b.abs().max(1e-6), "{a} != {b}");
}

#[test]
fn codivision_with_all_clean_codes_is_a_warmup_step() {
    let xs = images(4, 32, 0.0);
    let labels = [0, 1, 2, 1];
    let mut a = trainer(3, 7);
    let mut b = trainer(3, 7);
    let sa = a.warmup_step_tensors(&xs, &labels).unwrap();
    let sb = b.codivision_step_tensors(&xs, None, &labels, &[0; 4], W).unwrap();
    assert!(sa.loss > 0.0 && sa.loss.is_finite());
    assert_eq!(sa.loss, sb.loss);
    assert_eq!(sb.loss_clean, sb.loss);
    assert_eq!((sb.loss_ambiguous, sb.loss_noisy), (0.0, 0.0));
    assert_eq!((sb.clean, sb.ambiguous, sb.noisy), (4, 0, 0));
    assert_eq!((sa.correct1, sa.correct2), (sb.correct1, sb.correct2));
    assert_same_state(&a, &b);
}

#[test]
fn empty_subsets_contribute_zero() {
    let weak = images(4, 32, 1.0);
    let strong = images(4, 32, 2.0);
    let labels = [0, 1, 2, 1];

    let mut t = trainer(3, 1);
    let s = t.codivision_step_tensors(&weak, None, &labels, &[1; 4], W).unwrap();
    assert_eq!((s.loss_clean, s.loss_noisy), (0.0, 0.0));
    assert!(s.loss_ambiguous > 0.0);
    rel_close(s.loss, W.omega * s.loss_ambiguous);
    assert_eq!((s.clean, s.ambiguous, s.noisy), (0, 4, 0));

    let mut t = trainer(3, 1);
    let s = t.codivision_step_tensors(&weak, Some(&strong), &labels, &[2; 4], W).unwrap();
    assert_eq!((s.loss_clean, s.loss_ambiguous), (0.0, 0.0));
    assert!(s.loss_noisy > 0.0);
    rel_close(s.loss, W.gamma * s.loss_noisy);
}

#[test]
fn mixed_batch_sums_the_weighted_terms() {
    let codes = [0, 0, 1, 1, 2, 2];
    let weak = images(6, 32, 3.0);
    let strong = images(2, 32, 4.0);
    let labels = [0, 1, 2, 0, 1, 2];
    let mut t = trainer(3, 2);
    let s = t.codivision_step_tensors(&weak, Some(&strong), &labels, &codes, W).unwrap();
    assert!(s.loss_clean > 0.0 && s.loss_ambiguous > 0.0 && s.loss_noisy > 0.0);
    rel_close(s.loss, s.loss_clean + W.omega * s.loss_ambiguous + W.gamma * s.loss_noisy);
    assert_eq!((s.clean, s.ambiguous, s.noisy), (2, 2, 2));
    assert!(s.correct1 <= 6 && s.correct2 <= 6);
    assert_eq!(t.adam().step_count(), 1);
}

const JOINT: LossWeights = LossWeights { joint: true, ..W };

#[test]
fn a_joint_pass_over_one_subset_is_the_separate_pass() {
    let weak = images(4, 32, 9.0);
    let strong = images(4, 32, 10.0);
    let labels = [0, 1, 2, 1];
    for (codes, strong) in [([0u8; 4], None), ([1u8; 4], None)] {
        let mut a = trainer(3, 5);
        let mut b = trainer(3, 5);
        let sa = a.codivision_step_tensors(&weak, strong, &labels, &codes, W).unwrap();
        let sb = b.codivision_step_tensors(&weak, strong, &labels, &codes, JOINT).unwrap();
        assert_eq!(sa, sb, "codes {codes:?}");
        assert_same_state(&a, &b);
    }
    // Noisy samples: separate passes normalise weak and strong views apart, the joint pass together.
    let mut a = trainer(3, 5);
    let mut b = trainer(3, 5);
    let sa = a.codivision_step_tensors(&weak, Some(&strong), &labels, &[2; 4], W).unwrap();
    let sb = b.codivision_step_tensors(&weak, Some(&strong), &labels, &[2; 4], JOINT).unwrap();
    assert!(sa.loss_noisy > 0.0 && sb.loss_noisy > 0.0);
    assert_ne!(sa.loss_noisy, sb.loss_noisy);
}

#[test]
fn a_joint_step_sums_the_weighted_terms_with_whole_batch_statistics() {
    let codes = [0, 0, 1, 1, 2, 2];
    let weak = images(6, 32, 3.0);
    let strong = images(2, 32, 4.0);
    let labels = [0, 1, 2, 0, 1, 2];
    let mut separate = trainer(3, 2);
    let mut joint = trainer(3, 2);
    let s = separate.codivision_step_tensors(&weak, Some(&strong), &labels, &codes, W).unwrap();
    let j = joint.codivision_step_tensors(&weak, Some(&strong), &labels, &codes, JOINT).unwrap();
    assert!(j.loss_clean > 0.0 && j.loss_ambiguous > 0.0 && j.loss_noisy > 0.0);
    rel_close(j.loss, j.loss_clean + W.omega * j.loss_ambiguous + W.gamma * j.loss_noisy);
    assert_eq!((j.clean, j.ambiguous, j.noisy), (2, 2, 2));
    assert_eq!(joint.adam().step_count(), 1);
    // Each subset normalised by its own statistics, or by the batch's: other losses.
    assert_ne!(s.loss_clean, j.loss_clean);
    assert_ne!(s.loss_ambiguous, j.loss_ambiguous);
}

#[test]
fn batch_share_weighs_each_subset_by_its_share_of_the_batch() {
    // 3 clean, 1 ambiguous, 2 noisy of 6: the terms weigh 3/6, 1/6 and 2/6.
    let codes = [0, 0, 0, 1, 2, 2];
    let weak = images(6, 32, 13.0);
    let strong = images(2, 32, 14.0);
    let labels = [0, 1, 2, 0, 1, 2];
    for base in [W, JOINT] {
        let shared = LossWeights { batch_share: true, ..base };
        let mut a = trainer(3, 8);
        let mut b = trainer(3, 8);
        let sa = a.codivision_step_tensors(&weak, Some(&strong), &labels, &codes, base).unwrap();
        let sb = b.codivision_step_tensors(&weak, Some(&strong), &labels, &codes, shared).unwrap();
        // The same passes, so the same subset losses; only their weights in the total differ.
        assert_eq!((sa.loss_clean, sa.loss_ambiguous, sa.loss_noisy), (sb.loss_clean, sb.loss_ambiguous, sb.loss_noisy));
        rel_close(sa.loss, sa.loss_clean + W.omega * sa.loss_ambiguous + W.gamma * sa.loss_noisy);
        rel_close(sb.loss, sb.loss_clean * 3.0 / 6.0 + W.omega * sb.loss_ambiguous / 6.0 + W.gamma * sb.loss_noisy * 2.0 / 6.0);
        let (va, vb) = (train_support::state(&a), train_support::state(&b));
        assert!(va.iter().zip(&vb).any(|((_, x), (_, y))| x != y), "joint: {}: same update", base.joint);
    }
    // A batch that is all clean has share 1: exactly the reference's step.
    let mut a = trainer(3, 8);
    let mut b = trainer(3, 8);
    let sa = a.codivision_step_tensors(&weak, None, &labels, &[0; 6], JOINT).unwrap();
    let sb = b.codivision_step_tensors(&weak, None, &labels, &[0; 6], LossWeights { batch_share: true, ..JOINT }).unwrap();
    assert_eq!(sa, sb);
    assert_same_state(&a, &b);
}

#[test]
fn a_detached_weak_target_keeps_the_loss_and_changes_the_update() {
    let weak = images(4, 32, 11.0);
    let strong = images(4, 32, 12.0);
    let labels = [0, 1, 2, 1];
    for base in [W, JOINT] {
        let detached = LossWeights { detach_weak: true, ..base };
        let mut a = trainer(3, 6);
        let mut b = trainer(3, 6);
        let sa = a.codivision_step_tensors(&weak, Some(&strong), &labels, &[2; 4], base).unwrap();
        let sb = b.codivision_step_tensors(&weak, Some(&strong), &labels, &[2; 4], detached).unwrap();
        assert_eq!(sa.loss, sb.loss, "joint: {}", base.joint);
        let (va, vb) = (train_support::state(&a), train_support::state(&b));
        assert!(va.iter().zip(&vb).any(|((_, x), (_, y))| x != y), "joint: {}: same update", base.joint);
    }
}

#[test]
fn a_single_sample_subset_at_32px_is_skipped_not_fatal() {
    let weak = images(3, 32, 5.0);
    let labels = [0, 1, 2];
    let mut t = trainer(3, 3);
    let s = t.codivision_step_tensors(&weak, None, &labels, &[0, 0, 1], W).unwrap();
    assert_eq!(s.loss_ambiguous, 0.0);
    assert!(s.loss_clean > 0.0);
    assert_eq!(s.loss, s.loss_clean);
    for (name, v) in t.variables(0) {
        assert!(train_support::flat(&v).iter().all(|x| x.is_finite()), "{name} is not finite");
    }
    // A one-sample warm-up batch at 32 px takes no step at all.
    let s = t.warmup_step_tensors(&images(1, 32, 6.0), &[1]).unwrap();
    assert_eq!(s.loss, 0.0);
    assert_eq!(t.adam().step_count(), 1);
    // At 64 px layer4 is 2×2, so one sample trains.
    let s = t.codivision_step_tensors(&images(3, 64, 7.0), None, &labels, &[0, 0, 1], W).unwrap();
    assert!(s.loss_ambiguous > 0.0);
}

#[test]
fn warmup_steps_fit_a_fixed_batch() {
    let xs = images(8, 32, 8.0);
    let labels = [0, 1, 0, 1, 0, 1, 0, 1];
    let mut t = trainer(2, 4);
    let first = t.warmup_step_tensors(&xs, &labels).unwrap().loss;
    let mut last = first;
    for _ in 0..3 {
        last = t.warmup_step_tensors(&xs, &labels).unwrap().loss;
    }
    assert!(last < first * 0.8, "loss went from {first} to {last}");
}

#[test]
fn mixed_precision_is_ignored_on_cpu() {
    let xs = images(4, 32, 9.0);
    let labels = [0, 1, 1, 0];
    let mut a = trainer(2, 5);
    let mut opts = train_support::options(2, 5);
    opts.mixed_precision = true;
    let mut b = man_core::train::Trainer::new(&opts).unwrap();
    assert_eq!(a.warmup_step_tensors(&xs, &labels).unwrap().loss, b.warmup_step_tensors(&xs, &labels).unwrap().loss);
}

#[test]
fn fp32_is_what_auto_chooses_on_a_cpu_without_native_bf16() {
    let mut opts = train_support::options(2, 5);
    opts.precision = PrecisionRequest::Auto;
    let t = man_core::train::Trainer::new(&opts).unwrap();
    let expected = if precision::cpu_bf16().any() { Precision::Bf16 } else { Precision::Fp32 };
    assert_eq!(t.precision(), expected);
}

#[test]
fn auto_precision_takes_bf16_only_on_a_cpu_with_amx_or_avx512_bf16() {
    use precision::{resolve, CpuBf16};
    use tch::Device;
    let none = CpuBf16::default();
    let amx = CpuBf16 { amx_bf16: true, avx512_bf16: false };
    let avx512 = CpuBf16 { amx_bf16: false, avx512_bf16: true };
    assert_eq!(resolve(PrecisionRequest::Auto, Device::Cpu, none), Precision::Fp32);
    assert_eq!(resolve(PrecisionRequest::Auto, Device::Cpu, amx), Precision::Bf16);
    assert_eq!(resolve(PrecisionRequest::Auto, Device::Cpu, avx512), Precision::Bf16);
    assert_eq!(resolve(PrecisionRequest::Auto, Device::Cuda(0), amx), Precision::Fp32);
    assert_eq!(resolve(PrecisionRequest::Fp32, Device::Cpu, amx), Precision::Fp32);
    assert_eq!(resolve(PrecisionRequest::Bf16, Device::Cpu, none), Precision::Bf16);
    assert_eq!(resolve(PrecisionRequest::Bf16, Device::Cuda(0), none), Precision::Bf16);
    assert_eq!(PrecisionRequest::parse("auto").unwrap(), PrecisionRequest::Auto);
    let e = PrecisionRequest::parse("fp16").unwrap_err();
    assert!(e.to_string().contains("'auto', 'fp32' or 'bf16'"), "{e}");
}

#[test]
fn forced_bf16_trains_with_fp32_weights_and_adam_state() {
    let xs = images(4, 32, 9.0);
    let labels = [0, 1, 1, 0];
    let mut opts = train_support::options(2, 5);
    opts.precision = PrecisionRequest::Bf16;
    let mut t = man_core::train::Trainer::new(&opts).unwrap();
    assert_eq!(t.precision(), Precision::Bf16);
    let mut fp32 = trainer(2, 5);
    let (a, b) = (t.warmup_step_tensors(&xs, &labels).unwrap(), fp32.warmup_step_tensors(&xs, &labels).unwrap());
    assert!(a.loss.is_finite() && a.loss != b.loss, "bf16 {} fp32 {}", a.loss, b.loss);
    // bfloat16 keeps about 3 significant digits through 18 layers: close, not equal.
    assert!((a.loss - b.loss).abs() < 0.25 * b.loss, "bf16 {} fp32 {}", a.loss, b.loss);
    for (name, v) in t.variables(0) {
        assert_eq!(v.kind(), tch::Kind::Float, "{name}");
    }
    for p in t.adam().params() {
        assert_eq!((p.exp_avg.kind(), p.exp_avg_sq.kind()), (tch::Kind::Float, tch::Kind::Float), "{}", p.name);
    }
}

#[test]
fn predictions_are_argmaxes_and_ensemble_probabilities() {
    let t = trainer(3, 6);
    let xs = images(5, 32, 10.0);
    let p = t.predict_tensors(&xs, true).unwrap();
    assert_eq!((p.pred1.len(), p.pred2.len()), (5, 5));
    assert!(p.pred1.iter().chain(&p.pred2).all(|&c| (0..3).contains(&c)));
    let probs = p.probs.unwrap();
    assert_eq!(probs.len(), 15);
    for row in probs.chunks(3) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    assert!(t.predict_tensors(&xs, false).unwrap().probs.is_none());
}

#[test]
fn predictions_are_float32_whatever_the_steps_compute_in() {
    // A bf16 trainer's predictions (test accuracy, co-division) must be what the saved model gives in fp32.
    let xs = images(6, 32, 11.0);
    let mut opts = train_support::options(3, 6);
    opts.precision = PrecisionRequest::Bf16;
    let bf16 = man_core::train::Trainer::new(&opts).unwrap();
    let fp32 = trainer(3, 6);
    assert_same_state(&bf16, &fp32);
    let (a, b) = (bf16.predict_tensors(&xs, true).unwrap(), fp32.predict_tensors(&xs, true).unwrap());
    assert_eq!(a, b);
    // The same networks' logits in bf16 are not bit-equal to fp32's: the check above can fail.
    let (l16, l32) = (bf16.network_logits(0, &xs, false).unwrap(), fp32.network_logits(0, &xs, false).unwrap());
    assert!(!l16.equal(&l32));
}

#[test]
fn bad_arguments_are_shape_errors_naming_the_argument() {
    let mut t = trainer(3, 8);
    let xs = images(2, 32, 0.0);
    let e = t.warmup_step_tensors(&xs, &[0, 3]).unwrap_err();
    assert_eq!(e.code(), "ERR_MAN_SHAPE");
    assert!(e.to_string().contains("labels[1] = 3"), "{e}");
    let e = t.warmup_step_tensors(&xs, &[0]).unwrap_err();
    assert!(e.to_string().contains("images"), "{e}");
    let e = t.codivision_step_tensors(&xs, None, &[0, 1], &[0], W).unwrap_err();
    assert!(e.to_string().contains("codes has 1 entries"), "{e}");
    let e = t.codivision_step_tensors(&xs, None, &[0, 1], &[0, 7], W).unwrap_err();
    assert!(e.to_string().contains("codes[1] = 7"), "{e}");
    let e = t.codivision_step_tensors(&xs, None, &[0, 1], &[0, 2], W).unwrap_err();
    assert!(e.to_string().contains("strong views"), "{e}");
    let e = t.warmup_step_tensors(&images(0, 32, 0.0), &[]).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    assert_eq!(t.adam().step_count(), 0);
}

#[test]
fn bf16_autocast_sets_and_restores_each_devices_autocast_state() {
    use man_core::train::autocast;
    use tch::{Device, Kind};
    // A fresh thread starts from libtorch's defaults: float16 on CUDA, bfloat16 on the CPU, both off.
    std::thread::spawn(|| {
        let cuda = Device::Cuda(0);
        assert_eq!(autocast::autocast_kind(cuda), Some(Kind::Half));
        let inside = autocast::bf16(true, cuda, || (autocast::autocast_kind(cuda), autocast::autocast_enabled(cuda)));
        assert_eq!(inside, (Some(Kind::BFloat16), true));
        assert_eq!(autocast::autocast_kind(cuda), Some(Kind::Half));
        assert!(!autocast::autocast_enabled(cuda));
        assert_eq!(autocast::bf16(false, cuda, || autocast::autocast_kind(cuda)), Some(Kind::Half));

        assert!(!autocast::autocast_enabled(Device::Cpu));
        let inside = autocast::bf16(true, Device::Cpu, || {
            (autocast::autocast_enabled(Device::Cpu), autocast::autocast_enabled(cuda))
        });
        assert_eq!(inside, (true, false));
        assert!(!autocast::autocast_enabled(Device::Cpu));
        // A panic inside the forward pass leaves the thread's state as it was.
        let caught = std::panic::catch_unwind(|| autocast::bf16(true, Device::Cpu, || panic!("in the forward pass")));
        assert!(caught.is_err());
        assert!(!autocast::autocast_enabled(Device::Cpu));
    })
    .join()
    .unwrap();
}

#[test]
fn a_pseudo_label_threshold_replaces_the_consistency_term() {
    let weak = images(4, 32, 13.0);
    let strong = images(4, 32, 14.0);
    let labels = [0, 1, 2, 1];
    for base in [W, JOINT] {
        let consistency = trainer(3, 8).codivision_step_tensors(&weak, Some(&strong), &labels, &[2; 4], base).unwrap();
        // Threshold 0: every noisy sample trains on the class the networks give it, a cross-entropy.
        let every = LossWeights { pseudo_threshold: Some(0.0), ..base };
        let s = trainer(3, 8).codivision_step_tensors(&weak, Some(&strong), &labels, &[2; 4], every).unwrap();
        assert!(s.loss_noisy > 0.0 && s.loss_noisy != consistency.loss_noisy, "joint: {}", base.joint);
        rel_close(s.loss, W.gamma * s.loss_noisy);
        // A threshold no untrained network's mean prediction reaches: nothing to learn.
        let none = LossWeights { pseudo_threshold: Some(0.999), ..base };
        let s = trainer(3, 8).codivision_step_tensors(&weak, Some(&strong), &labels, &[2; 4], none).unwrap();
        assert_eq!(s.loss_noisy, 0.0, "joint: {}", base.joint);
    }
}
