//! The losses on plain row-major f64 slices, computed in float64 on the CPU:
//! what the binding exposes so TypeScript can check them on hand-made cases.

use tch::{Kind, Tensor};

use super::{losses, validate};
use crate::Result;

fn matrix(name: &str, values: &[f64], rows: i64, cols: i64) -> Result<Tensor> {
    validate::matrix(name, values.len(), rows, cols)?;
    Ok(Tensor::f_from_slice(values)?.f_view([rows, cols])?.f_to_kind(Kind::Double)?)
}

fn labels(name: &str, values: &[i32], rows: i64, cols: i64) -> Result<Tensor> {
    validate::same_len("rows", rows as usize, name, values.len())?;
    validate::labels(name, values, cols)?;
    let ys: Vec<i64> = values.iter().map(|&y| i64::from(y)).collect();
    Ok(Tensor::f_from_slice(&ys)?)
}

fn scalar(t: Tensor) -> Result<f64> {
    Ok(t.f_double_value(&[])?)
}

pub fn cross_entropy(logits: &[f64], rows: i64, cols: i64, y: &[i32]) -> Result<f64> {
    let l = matrix("logits", logits, rows, cols)?;
    scalar(losses::cross_entropy(&l, &labels("labels", y, rows, cols)?)?)
}

pub fn kl(pred: &[f64], target: &[f64], rows: i64, cols: i64) -> Result<f64> {
    scalar(losses::kl(&matrix("pred", pred, rows, cols)?, &matrix("target", target, rows, cols)?)?)
}

pub fn mutual(l1: &[f64], l2: &[f64], rows: i64, cols: i64, y: &[i32], lambda: f64) -> Result<f64> {
    let a = matrix("logits1", l1, rows, cols)?;
    let b = matrix("logits2", l2, rows, cols)?;
    scalar(losses::mutual(&a, &b, &labels("labels", y, rows, cols)?, lambda)?)
}

pub fn consistency(weak: &[f64], strong: &[f64], rows: i64, cols: i64) -> Result<f64> {
    scalar(losses::consistency(&matrix("weak", weak, rows, cols)?, &matrix("strong", strong, rows, cols)?)?)
}
