//! The MAN losses on Float64Arrays, computed in float64 (for checking the
//! formulas from TypeScript on hand-made cases).

use napi::bindgen_prelude::{AsyncTask, Float64Array, Int32Array};
use napi_derive::napi;

use man_core::train::loss_api;

use crate::args;
use crate::task::Compute;

fn dims(rows: f64, cols: f64) -> man_core::Result<(i64, i64)> {
    Ok((args::u32_arg("rows", rows)?.into(), args::u32_arg("cols", cols)?.into()))
}

/// Mean cross-entropy of row-major `rows`×`cols` logits against `labels`.
#[napi(ts_return_type = "Promise<number>")]
pub fn loss_cross_entropy(logits: Float64Array, rows: f64, cols: f64, labels: Int32Array) -> AsyncTask<Compute<f64>> {
    let (logits, labels) = (logits.to_vec(), labels.to_vec());
    AsyncTask::new(Compute::new(move || {
        let (r, c) = dims(rows, cols)?;
        loss_api::cross_entropy(&logits, r, c, &labels)
    }))
}

/// docs/method.md's KL(pred‖target) = mean_i Σ_c softmax(target)·(log softmax(target) − log softmax(pred)).
#[napi(ts_return_type = "Promise<number>")]
pub fn loss_kl(pred: Float64Array, target: Float64Array, rows: f64, cols: f64) -> AsyncTask<Compute<f64>> {
    let (pred, target) = (pred.to_vec(), target.to_vec());
    AsyncTask::new(Compute::new(move || {
        let (r, c) = dims(rows, cols)?;
        loss_api::kl(&pred, &target, r, c)
    }))
}

/// docs/method.md's mutual loss La of two networks' logits: (1 − λ)·½(CE1 + CE2) + λ·½(KL12 + KL21).
#[napi(ts_return_type = "Promise<number>")]
pub fn loss_mutual(
    logits1: Float64Array,
    logits2: Float64Array,
    rows: f64,
    cols: f64,
    labels: Int32Array,
    lambda: f64,
) -> AsyncTask<Compute<f64>> {
    let (l1, l2, labels) = (logits1.to_vec(), logits2.to_vec(), labels.to_vec());
    AsyncTask::new(Compute::new(move || {
        let (r, c) = dims(rows, cols)?;
        loss_api::mutual(&l1, &l2, r, c, &labels, args::finite("lambda", lambda)?)
    }))
}

/// docs/method.md's consistency loss Ln: mean squared difference of the weak and strong views' softmax.
#[napi(ts_return_type = "Promise<number>")]
pub fn loss_consistency(weak: Float64Array, strong: Float64Array, rows: f64, cols: f64) -> AsyncTask<Compute<f64>> {
    let (weak, strong) = (weak.to_vec(), strong.to_vec());
    AsyncTask::new(Compute::new(move || {
        let (r, c) = dims(rows, cols)?;
        loss_api::consistency(&weak, &strong, r, c)
    }))
}
