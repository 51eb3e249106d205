//! Reading pretrained weights without Python: safetensors, torch.save zip
//! archives and the legacy pickle format, with or without a `state_dict`
//! wrapper and a `module.` prefix. Nothing in a file is executed.

mod apply;
mod pickle;
mod safetensors_file;
mod state_dict;
mod torch_file;

use std::path::Path;

use crate::{ManError, Result};

pub use apply::{apply_tensors, load_backbone, WeightsReport};

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

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 => 2,
            DType::U8 | DType::Bool => 1,
        }
    }

    pub fn kind(self) -> tch::Kind {
        match self {
            DType::F32 => tch::Kind::Float,
            DType::F64 => tch::Kind::Double,
            DType::F16 => tch::Kind::Half,
            DType::BF16 => tch::Kind::BFloat16,
            DType::I64 => tch::Kind::Int64,
            DType::I32 => tch::Kind::Int,
            DType::U8 => tch::Kind::Uint8,
            DType::Bool => tch::Kind::Bool,
        }
    }
}

/// A named tensor as stored: contiguous little-endian bytes in row-major order.
#[derive(Debug, Clone)]
pub struct RawTensor {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

enum Format {
    SafeTensors,
    TorchZip,
    TorchLegacy,
    TorchTar,
}

/// By content, not by extension: FER checkpoints are named `.pth`, `.pt`,
/// `.pth.tar` or `.pkl` whatever their format.
fn detect(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(Format::TorchZip);
    }
    if bytes.len() >= 2 && bytes[0] == 0x80 && bytes[1] <= 5 {
        return Some(Format::TorchLegacy);
    }
    if bytes.len() > 262 && &bytes[257..262] == b"ustar" {
        return Some(Format::TorchTar);
    }
    if bytes.len() >= 9 && bytes[8] == b'{' {
        let header = u64::from_le_bytes(bytes[..8].try_into().ok()?);
        if header <= (bytes.len() - 8) as u64 {
            return Some(Format::SafeTensors);
        }
    }
    None
}

/// Largest weights file read: a ResNet-18 state dict is 45 MB, one with an
/// 85k-identity face head and optimiser state a few hundred.
pub const MAX_WEIGHTS_FILE_BYTES: u64 = 4 << 30;
/// Largest single entry (storage or pickle) of a torch.save archive, after
/// decompression: the largest real one is a face-identity head (~175 MB).
/// Bounds a zip bomb, whose few compressed megabytes inflate to gigabytes.
pub const MAX_ENTRY_BYTES: u64 = 512 << 20;

/// Reads every tensor of a checkpoint file, names normalised (wrapper and
/// `module.` prefix removed).
pub fn read_tensors(path: &Path) -> Result<Vec<RawTensor>> {
    let bytes = crate::files::read_regular_file(path, MAX_WEIGHTS_FILE_BYTES, "per weights file")?;
    // Stride-0 (expanded) tensors may legitimately outgrow their storage,
    // but never by this much in a real checkpoint.
    let max_bytes = bytes.len().saturating_mul(8).saturating_add(64 << 20);
    let result = match detect(&bytes) {
        Some(Format::SafeTensors) => safetensors_file::tensors(&bytes),
        Some(Format::TorchZip) => torch_file::read_zip(&bytes).and_then(|mut f| state_dict::tensors(&mut f, max_bytes)),
        Some(Format::TorchLegacy) => {
            torch_file::read_legacy(&bytes).and_then(|mut f| state_dict::tensors(&mut f, max_bytes))
        }
        Some(Format::TorchTar) => {
            Err("the tar format of PyTorch < 0.1.10 is not supported; re-save it with a recent torch".to_string())
        }
        None => Err("not a safetensors file, torch.save zip archive or legacy torch.save file".to_string()),
    };
    let tensors =
        result.and_then(unique_names).map_err(|msg| ManError::Weights(format!("{}: {msg}", path.display())))?;
    Ok(tensors)
}

fn unique_names(tensors: Vec<RawTensor>) -> std::result::Result<Vec<RawTensor>, String> {
    let mut seen = std::collections::HashSet::new();
    match tensors.iter().find(|t| !seen.insert(t.name.as_str())) {
        Some(t) => Err(format!("tensor {} appears twice (once with a `module.` prefix?)", t.name)),
        None => Ok(tensors),
    }
}

/// `nn.DataParallel` saves every name under `module.`.
fn strip_module_prefix(name: &str) -> &str {
    let mut name = name;
    while let Some(rest) = name.strip_prefix("module.") {
        name = rest;
    }
    name
}
