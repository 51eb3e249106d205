//! NaN and infinity in weights: a diverged run or a corrupt pretrained file
//! must not become a model that answers with null probabilities.

use tch::{Kind, Tensor};

use crate::Result;

/// True when `t` is a floating-point tensor holding a NaN or an infinity.
pub fn has_non_finite(t: &Tensor) -> Result<bool> {
    let floating = matches!(t.f_kind()?, Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16);
    if !floating || t.numel() == 0 {
        return Ok(false);
    }
    let all_finite = tch::no_grad(|| t.f_isfinite().and_then(|f| f.f_all()))?;
    Ok(all_finite.f_int64_value(&[])? == 0)
}
