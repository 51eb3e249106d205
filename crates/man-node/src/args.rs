//! JavaScript numbers arrive as f64; these turn them into the integer types
//! man-core wants, or into an error naming the argument (a negative number
//! must not wrap around into a huge index).

use man_core::data::View;
use man_core::{ManError, Result};

pub fn uint(name: &str, v: f64, max: u64) -> Result<u64> {
    if v.is_finite() && v.fract() == 0.0 && v >= 0.0 && v <= max as f64 {
        Ok(v as u64)
    } else {
        Err(ManError::Config(format!("{name} must be an integer in 0..={max}, got {v}")))
    }
}

pub fn u32_arg(name: &str, v: f64) -> Result<u32> {
    Ok(uint(name, v, u64::from(u32::MAX))? as u32)
}

pub fn finite(name: &str, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ManError::Config(format!("{name} must be a finite number, got {v}")))
    }
}

/// A number from 0 to 1 (a threshold on a probability).
pub fn probability(name: &str, v: f64) -> Result<f64> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(ManError::Config(format!("{name} must be a number from 0 to 1, got {v}")))
    }
}

pub fn view(name: &str) -> Result<View> {
    match name {
        "test" => Ok(View::Test),
        "weak" => Ok(View::Weak),
        "strong" => Ok(View::Strong),
        other => Err(ManError::Config(format!("view must be 'test', 'weak' or 'strong', got '{other}'"))),
    }
}
