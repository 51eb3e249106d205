//! Copying read tensors into a model's VarStore: the whole backbone must be
//! there with the right shapes; the classification head may differ (a
//! 1000-class ImageNet or 12k-class MS-Celeb head against 7 expressions).

use std::collections::HashSet;
use std::path::Path;

use tch::{nn, Tensor};

use super::{read_tensors, RawTensor};
use crate::{ManError, Result};

/// What a load did. A backbone tensor the file lacks or shapes otherwise is
/// never reported here: the load fails instead, naming it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightsReport {
    /// Variables of the model that took their value from the file, in file order.
    pub loaded: Vec<String>,
    /// Names in the file that were not used: unknown names (`feature.*` of
    /// MS-Celeb files), `num_batches_tracked`, head tensors of another shape.
    pub skipped: Vec<String>,
    /// Head variables (`fc.*`) the file gave no usable value for: absent, or
    /// shaped for another class count. They keep their initialisation.
    pub head_initialised: Vec<String>,
}

/// The classifier head, which a pretrained file may shape differently.
fn is_head(name: &str) -> bool {
    name.starts_with("fc.") || name.starts_with("feature.")
}

/// PyTorch's BatchNorm counter, which the model does not keep.
fn is_counter(name: &str) -> bool {
    name == "num_batches_tracked" || name.ends_with(".num_batches_tracked")
}

/// Reads `path` and applies it to `vs` (see [`apply_tensors`]).
pub fn load_backbone(vs: &nn::VarStore, path: &Path) -> Result<WeightsReport> {
    let tensors = read_tensors(path)?;
    apply_tensors(vs, &tensors).map_err(|e| match e {
        ManError::Weights(msg) => ManError::Weights(format!("{}: {msg}", path.display())),
        other => other,
    })
}

/// Copies every tensor whose name and shape match a variable of `vs`. Checks
/// everything before copying anything, so a mismatch leaves `vs` untouched.
pub fn apply_tensors(vs: &nn::VarStore, tensors: &[RawTensor]) -> Result<WeightsReport> {
    let vars = vs.variables();
    let mut report = WeightsReport::default();
    let mut problems = Vec::new();
    let mut provided = HashSet::new();
    let mut plan = Vec::new();
    for t in tensors {
        let var = match vars.get(&t.name) {
            Some(var) if !is_counter(&t.name) => var,
            _ => {
                report.skipped.push(t.name.clone());
                continue;
            }
        };
        let have: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
        let want = var.size();
        if have == want {
            provided.insert(t.name.as_str());
            plan.push((t, have, var));
        } else if is_head(&t.name) {
            report.skipped.push(t.name.clone());
        } else {
            provided.insert(t.name.as_str());
            problems.push(format!("{} has shape {have:?} in the file but {want:?} in the model", t.name));
        }
    }
    let mut absent: Vec<&String> =
        vars.keys().filter(|name| !provided.contains(name.as_str()) && !is_counter(name)).collect();
    absent.sort();
    for name in absent {
        if is_head(name) {
            report.head_initialised.push(name.clone());
        } else {
            problems.push(format!("{name} is missing from the file"));
        }
    }
    if !problems.is_empty() {
        return Err(ManError::Weights(format!(
            "pretrained weights do not fit the backbone ({} problems): {}",
            problems.len(),
            problems.join("; ")
        )));
    }
    for (t, _, _) in &plan {
        let expected = t.shape.iter().product::<usize>() * t.dtype.size();
        if t.data.len() != expected {
            return Err(ManError::Weights(format!(
                "{} holds {} bytes, not the {expected} its shape {:?} needs",
                t.name,
                t.data.len(),
                t.shape
            )));
        }
    }
    let mut sources = Vec::with_capacity(plan.len());
    for (t, shape, var) in plan {
        let src = Tensor::f_from_data_size(&t.data, &shape, t.dtype.kind())?;
        if crate::finite::has_non_finite(&src)? {
            return Err(ManError::Weights(format!("{} holds NaN or infinite values: not usable as weights", t.name)));
        }
        sources.push((src, var, &t.name));
    }
    for (src, var, name) in sources {
        let mut dst = var.shallow_clone();
        tch::no_grad(|| dst.f_copy_(&src))?;
        report.loaded.push(name.clone());
    }
    Ok(report)
}
