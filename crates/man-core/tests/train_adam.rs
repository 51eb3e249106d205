//! Adam against the closed form of torch.optim.Adam (coupled weight decay).

use man_core::train::{Adam, AdamConfig};
use tch::{Kind, Tensor};

const A: [f64; 2] = [3.0, -0.5];
const P0: [f64; 2] = [1.0, -2.0];

/// Loss Σ aᵢ·pᵢ, so the gradient is `a` whatever p is.
fn backward(p: &Tensor) {
    let a = Tensor::from_slice(&A);
    (p * a).sum(Kind::Double).backward();
}

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t).unwrap()
}

#[test]
fn two_steps_match_the_closed_form_with_weight_decay() {
    let cfg = AdamConfig { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.1 };
    let p = Tensor::from_slice(&P0).set_requires_grad(true);
    let mut adam = Adam::new(vec![("p".into(), p.shallow_clone())], cfg).unwrap();

    // Hand-rolled reference, per coordinate.
    let mut expected = P0;
    let (mut m, mut v) = ([0.0; 2], [0.0; 2]);
    for t in 1..=2 {
        adam.zero_grad().unwrap();
        backward(&p);
        adam.step().unwrap();
        for i in 0..2 {
            let g = A[i] + cfg.weight_decay * expected[i];
            m[i] = cfg.beta1 * m[i] + (1.0 - cfg.beta1) * g;
            v[i] = cfg.beta2 * v[i] + (1.0 - cfg.beta2) * g * g;
            let m_hat = m[i] / (1.0 - cfg.beta1.powi(t));
            let v_hat = v[i] / (1.0 - cfg.beta2.powi(t));
            expected[i] -= cfg.lr * m_hat / (v_hat.sqrt() + cfg.eps);
        }
        if t == 1 {
            // First step: m̂ = g, v̂ = g², so each coordinate moves by lr·sign(g) (up to eps).
            let got = values(&p);
            for i in 0..2 {
                let g = A[i] + cfg.weight_decay * P0[i];
                assert!((got[i] - (P0[i] - cfg.lr * g.signum())).abs() < 1e-9, "step 1: {got:?}");
            }
        }
        let got = values(&p);
        for i in 0..2 {
            assert!((got[i] - expected[i]).abs() < 1e-12, "step {t}: got {got:?}, expected {expected:?}");
        }
    }
    assert_eq!(adam.step_count(), 2);
    let state = &adam.params()[0];
    let ea = values(&state.exp_avg);
    let eas = values(&state.exp_avg_sq);
    for i in 0..2 {
        assert!((ea[i] - m[i]).abs() < 1e-12 && (eas[i] - v[i]).abs() < 1e-12);
    }
}

#[test]
fn parameters_without_gradient_are_left_alone_and_lr_is_settable() {
    let cfg = AdamConfig { lr: 0.5, ..AdamConfig::default() };
    let used = Tensor::from_slice(&P0).set_requires_grad(true);
    let unused = Tensor::from_slice(&P0).set_requires_grad(true);
    let mut adam =
        Adam::new(vec![("used".into(), used.shallow_clone()), ("unused".into(), unused.shallow_clone())], cfg)
            .unwrap();
    adam.set_lr(0.25).unwrap();
    assert_eq!(adam.lr(), 0.25);
    backward(&used);
    adam.step().unwrap();
    assert_eq!(values(&unused), P0.to_vec());
    // Signs of a + wd·p are (+, −): each coordinate moves by ≈ lr against its gradient.
    let got = values(&used);
    assert!((got[0] - (P0[0] - 0.25)).abs() < 1e-6 && (got[1] - (P0[1] + 0.25)).abs() < 1e-6, "{got:?}");
    assert!(adam.set_lr(-1.0).is_err());
    assert!(Adam::new(vec![], AdamConfig { beta1: 1.0, ..cfg }).is_err());
}
