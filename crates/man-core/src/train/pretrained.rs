//! One pretrained backbone into both networks. The file is read once; each
//! network gets the same tensors, copied in place, so Adam's references to
//! the parameters stay valid.

use std::path::Path;

use super::trainer::Trainer;
use crate::{weights, ManError, Result};

/// What `load_pretrained` did, by tensor name; the same for both networks.
pub type PretrainedReport = weights::WeightsReport;

impl Trainer {
    /// Loads one backbone file into both networks; fails (changing nothing
    /// in the failing network) when the backbone does not fit. A head of
    /// another class count, or none, leaves both heads as initialised.
    pub fn load_pretrained(&mut self, path: &Path) -> Result<PretrainedReport> {
        let tensors = weights::read_tensors(path)?;
        let with_file = |e: ManError| match e {
            ManError::Weights(msg) => ManError::Weights(format!("{}: {msg}", path.display())),
            other => other,
        };
        // Both networks have the same names and shapes, so the check that
        // passes for the first passes for the second.
        let report = weights::apply_tensors(self.var_store(0), &tensors).map_err(with_file)?;
        weights::apply_tensors(self.var_store(1), &tensors).map_err(with_file)?;
        Ok(report)
    }
}
