//! Helpers shared by the trainer tests: deterministic inputs that do not
//! touch libtorch's global generator (tests run in parallel threads).
#![allow(dead_code)]

use man_core::train::{AdamConfig, Trainer, TrainerOptions};
use tch::{Kind, Tensor};

pub fn options(num_classes: i64, seed: i64) -> TrainerOptions {
    TrainerOptions {
        num_classes,
        device: "cpu".into(),
        threads: 0,
        seed,
        adam: AdamConfig::default(),
        mixed_precision: false,
        backward: man_core::train::Backward::default(),
        precision: man_core::train::precision::PrecisionRequest::Fp32,
    }
}

pub fn trainer(num_classes: i64, seed: i64) -> Trainer {
    Trainer::new(&options(num_classes, seed)).unwrap()
}

/// n×3×size×size float images, a smooth function of `salt`.
pub fn images(n: i64, size: i64, salt: f64) -> Tensor {
    let numel = n * 3 * size * size;
    (Tensor::arange(numel, (Kind::Float, tch::Device::Cpu)) * (0.37 + salt * 0.011) + salt)
        .sin()
        .view([n, 3, size, size])
}

/// Every variable and Adam moment, by name, as flat f32 vectors.
pub fn state(t: &Trainer) -> Vec<(String, Vec<f32>)> {
    let mut out = Vec::new();
    for k in 0..2 {
        for (name, v) in t.variables(k) {
            out.push((format!("{k}.{name}"), flat(&v)));
        }
    }
    for p in t.adam().params() {
        out.push((format!("m.{}", p.name), flat(&p.exp_avg)));
        out.push((format!("v.{}", p.name), flat(&p.exp_avg_sq)));
    }
    out
}

pub fn flat(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(&t.detach().flatten(0, -1).to_kind(Kind::Float)).unwrap()
}

pub fn assert_same_state(a: &Trainer, b: &Trainer) {
    let (sa, sb) = (state(a), state(b));
    assert_eq!(sa.len(), sb.len());
    for ((na, va), (nb, vb)) in sa.iter().zip(&sb) {
        assert_eq!(na, nb);
        assert!(va == vb, "{na} differs");
    }
}
