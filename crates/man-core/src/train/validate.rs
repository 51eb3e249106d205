//! Argument checks shared by the steps and the loss functions. Every error
//! names the argument, so a caller can tell which array was wrong.

use super::partition::Partition;
use crate::{ManError, Result};

pub fn same_len(a: &str, a_len: usize, b: &str, b_len: usize) -> Result<()> {
    if a_len != b_len {
        return Err(ManError::Shape(format!(
            "{b} has {b_len} entries but {a} has {a_len}; they must have the same length"
        )));
    }
    Ok(())
}

pub fn non_empty(name: &str, len: usize) -> Result<()> {
    if len == 0 {
        return Err(ManError::Shape(format!("{name} is empty; a step needs at least one sample")));
    }
    Ok(())
}

pub fn labels(name: &str, labels: &[i32], num_classes: i64) -> Result<()> {
    match labels.iter().position(|&y| y < 0 || i64::from(y) >= num_classes) {
        Some(i) => Err(ManError::Shape(format!(
            "{name}[{i}] = {} is not a class index (expected 0..{})",
            labels[i],
            num_classes - 1
        ))),
        None => Ok(()),
    }
}

pub fn indices(name: &str, indices: &[u32], dataset_len: usize) -> Result<()> {
    match indices.iter().position(|&i| i as usize >= dataset_len) {
        Some(i) => Err(ManError::Shape(format!(
            "{name}[{i}] = {} is out of range (the dataset has {dataset_len} samples)",
            indices[i]
        ))),
        None => Ok(()),
    }
}

/// One `Partition` code per sample.
pub fn codes(name: &str, codes: &[u8]) -> Result<()> {
    match codes.iter().position(|&c| Partition::from_code(c).is_none()) {
        Some(i) => Err(ManError::Shape(format!(
            "{name}[{i}] = {} is not a partition code ({} clean, {} ambiguous, {} noisy)",
            codes[i],
            Partition::Clean.code(),
            Partition::Ambiguous.code(),
            Partition::Noisy.code()
        ))),
        None => Ok(()),
    }
}

/// A row-major `rows`×`cols` matrix given as a flat slice.
pub fn matrix(name: &str, len: usize, rows: i64, cols: i64) -> Result<()> {
    if rows < 1 || cols < 1 {
        return Err(ManError::Shape(format!("{name}: rows and cols must be >= 1 (got {rows}×{cols})")));
    }
    if (rows as u128) * (cols as u128) != len as u128 {
        return Err(ManError::Shape(format!(
            "{name} has {len} values, expected rows×cols = {rows}×{cols} = {}",
            rows * cols
        )));
    }
    Ok(())
}
