//! Reading pretrained weights without Python: safetensors, torch.save zip
//! archives and the legacy pickle format, with or without a `state_dict`
//! wrapper and a `module.` prefix. Nothing in a file is executed.
//!
//! STUB: being written (issue: native core).

use std::path::Path;

use crate::{ManError, Result};

/// Element type of a stored tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    F64,
    F16,
    BF16,
    I64,
    I32,
    U8,
    Bool,
}

/// A named tensor as stored: contiguous little-endian bytes in row-major order.
#[derive(Debug, Clone)]
pub struct RawTensor {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

/// Reads every tensor of a checkpoint file, names normalised (wrapper and
/// `module.` prefix removed).
pub fn read_tensors(path: &Path) -> Result<Vec<RawTensor>> {
    Err(ManError::Weights(format!("{}: weight reading not implemented yet", path.display())))
}
