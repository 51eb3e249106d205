//! The MAN losses against values worked out by hand (see each comment).

use man_core::train::{loss_api, losses};
use tch::{Kind, Tensor};

const L1: [f64; 6] = [1.0, 2.0, 3.0, 1.0, 1.0, 1.0];
// Second row: softmax = (1/4, 1/4, 1/2).
const L2: [f64; 6] = [3.0, 2.0, 1.0, 0.0, 0.0, std::f64::consts::LN_2];
const Y: [i32; 2] = [2, 0];

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

#[test]
fn cross_entropy_matches_hand_computation() {
    // Row 1: −log(e³/(e+e²+e³)) = log(1 + e⁻¹ + e⁻²); row 2: uniform over 3 → log 3.
    let expected = ((1.0 + (-1f64).exp() + (-2f64).exp()).ln() + 3f64.ln()) / 2.0;
    close(loss_api::cross_entropy(&L1, 2, 3, &Y).unwrap(), expected);
    close(expected, 0.7531091265562451);
}

#[test]
fn kl_matches_hand_computation_and_vanishes_on_equal_inputs() {
    // Row 1: softmax(L2) is softmax(L1) reversed: Σ q(log q − log p) = (q₀−q₂)(log q₀ − log q₂) = 2(q₀ − q₂).
    let z = 1.0 + 1f64.exp() + 2f64.exp();
    let (q0, q2) = (2f64.exp() / z, 1.0 / z);
    let row1 = (q0 - q2) * (q0.ln() - q2.ln());
    // Row 2: pred uniform, target (1/4, 1/4, 1/2): Σ q log(3q) = log 3 + ½log¼ + ½log½.
    let row2 = 3f64.ln() + 0.5 * 0.25f64.ln() + 0.5 * 0.5f64.ln();
    close(loss_api::kl(&L1, &L2, 2, 3).unwrap(), (row1 + row2) / 2.0);
    close(loss_api::kl(&L1, &L1, 2, 3).unwrap(), 0.0);
    close(loss_api::kl(&L2, &L2, 2, 3).unwrap(), 0.0);
}

#[test]
fn mutual_is_the_weighted_sum_and_symmetric() {
    let lambda = 0.3;
    let ce = 0.5 * (loss_api::cross_entropy(&L1, 2, 3, &Y).unwrap() + loss_api::cross_entropy(&L2, 2, 3, &Y).unwrap());
    let kl = 0.5 * (loss_api::kl(&L1, &L2, 2, 3).unwrap() + loss_api::kl(&L2, &L1, 2, 3).unwrap());
    let m12 = loss_api::mutual(&L1, &L2, 2, 3, &Y, lambda).unwrap();
    let m21 = loss_api::mutual(&L2, &L1, 2, 3, &Y, lambda).unwrap();
    close(m12, (1.0 - lambda) * ce + lambda * kl);
    close(m12, m21);
    // λ = 0 is plain CE, λ = 1 plain symmetric KL.
    close(loss_api::mutual(&L1, &L2, 2, 3, &Y, 0.0).unwrap(), ce);
    close(loss_api::mutual(&L1, &L2, 2, 3, &Y, 1.0).unwrap(), kl);
    close(m12, 1.1087482058067648);
}

#[test]
fn consistency_matches_hand_computation() {
    // softmax(0,0) = (½,½), softmax(ln 3, 0) = (¾,¼): mean of two squared differences of ¼ = 1/16.
    close(loss_api::consistency(&[0.0, 0.0], &[3f64.ln(), 0.0], 1, 2).unwrap(), 0.0625);
    close(loss_api::consistency(&L1, &L1, 2, 3).unwrap(), 0.0);
    // Softmax is shift-invariant, so shifted logits are "equal inputs" too.
    let shifted: Vec<f64> = L1.iter().map(|v| v + 5.0).collect();
    close(loss_api::consistency(&L1, &shifted, 2, 3).unwrap(), 0.0);
}

#[test]
fn both_sides_of_kl_and_consistency_receive_gradient() {
    let a = Tensor::from_slice(&L1).view([2, 3]).set_requires_grad(true);
    let b = Tensor::from_slice(&L2).view([2, 3]).set_requires_grad(true);
    losses::kl(&a, &b).unwrap().backward();
    assert!(a.grad().abs().sum(Kind::Double).double_value(&[]) > 0.0);
    assert!(b.grad().abs().sum(Kind::Double).double_value(&[]) > 0.0);
    let c = Tensor::from_slice(&L1).view([2, 3]).set_requires_grad(true);
    let d = Tensor::from_slice(&L2).view([2, 3]).set_requires_grad(true);
    losses::consistency(&c, &d).unwrap().backward();
    assert!(c.grad().abs().sum(Kind::Double).double_value(&[]) > 0.0);
    assert!(d.grad().abs().sum(Kind::Double).double_value(&[]) > 0.0);
}

#[test]
fn losses_work_in_float32_too() {
    let a = Tensor::from_slice(&L1).view([2, 3]).to_kind(Kind::Float);
    let y = Tensor::from_slice(&[2i64, 0]);
    let ce = losses::cross_entropy(&a, &y).unwrap();
    assert_eq!(ce.kind(), Kind::Float);
    assert!((ce.double_value(&[]) - 0.7531091265562451).abs() < 1e-6);
}

#[test]
fn bad_arguments_are_shape_errors_naming_the_argument() {
    let e = loss_api::cross_entropy(&L1, 2, 3, &[2, 3]).unwrap_err();
    assert_eq!(e.code(), "ERR_MAN_SHAPE");
    assert!(e.to_string().contains("labels[1] = 3"), "{e}");
    let e = loss_api::cross_entropy(&L1, 2, 3, &[2]).unwrap_err();
    assert!(e.to_string().contains("labels"), "{e}");
    let e = loss_api::kl(&L1, &L2[..5], 2, 3).unwrap_err();
    assert_eq!(e.code(), "ERR_MAN_SHAPE");
    assert!(e.to_string().contains("target has 5 values"), "{e}");
    let e = loss_api::consistency(&L1, &L2, 3, 3).unwrap_err();
    assert!(e.to_string().contains("weak"), "{e}");
}

fn rows(values: &[f64], cols: i64) -> Tensor {
    Tensor::from_slice(values).view([-1, cols]).to_kind(Kind::Double)
}

#[test]
fn pseudo_label_trains_the_strong_view_on_the_confident_ensemble_class() {
    let nine = 9f64.ln();
    // Row 1: both networks (0.9, 0.1): class 0 at confidence 0.9. Row 2: (0.9, 0.1) and (0.2, 0.8):
    // each network alone is confident, their mean (0.55, 0.45) is not.
    let w1 = rows(&[nine, 0.0, nine, 0.0], 2);
    let w2 = rows(&[nine, 0.0, 0.0, 4f64.ln()], 2);
    // Strong views: row 1 uniform, CE = log 2; row 2 CE = log(1 + e⁻¹) against class 0 if it counted.
    let s1 = rows(&[0.0, 0.0, 1.0, 0.0], 2).set_requires_grad(true);
    let s2 = rows(&[0.0, 0.0, 1.0, 0.0], 2).set_requires_grad(true);
    let w1 = w1.set_requires_grad(true);
    let w2 = w2.set_requires_grad(true);
    // Threshold 0.8: row 1 only, the mean over both rows (row 2 counts 0).
    let loss = losses::pseudo_label([&w1, &w2], [&s1, &s2], 0.8).unwrap();
    close(loss.double_value(&[]), 2f64.ln() / 2.0);
    // Threshold 0.5: row 2 counts too, with the mean's class 0.
    let all = losses::pseudo_label([&w1, &w2], [&s1, &s2], 0.5).unwrap();
    close(all.double_value(&[]), (2f64.ln() + (1.0 + (-1f64).exp()).ln()) / 2.0);
    // Above every confidence nothing trains.
    close(losses::pseudo_label([&w1, &w2], [&s1, &s2], 0.95).unwrap().double_value(&[]), 0.0);
    // The weak views are targets only: gradient reaches the strong views alone.
    loss.backward();
    assert!(!w1.grad().defined() && !w2.grad().defined());
    let g: Vec<f64> = Vec::try_from(s1.grad().flatten(0, -1)).unwrap();
    // d/ds of ½·(mean over 2 rows of CE): row 1 gets ½·½·(softmax − onehot) = ¼·(½ − 1, ½) , row 2 nothing.
    for (got, want) in g.iter().zip([-0.125, 0.125, 0.0, 0.0]) {
        close(*got, want);
    }
}
