//! safetensors files, through the `safetensors` crate's validating parser.

use safetensors::{Dtype, SafeTensors};

use super::{strip_module_prefix, DType, RawTensor};

pub fn tensors(bytes: &[u8]) -> Result<Vec<RawTensor>, String> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| format!("invalid safetensors file: {e}"))?;
    let mut out = Vec::with_capacity(file.len());
    for (name, view) in file.iter() {
        let dtype = match view.dtype() {
            Dtype::F32 => DType::F32,
            Dtype::F64 => DType::F64,
            Dtype::F16 => DType::F16,
            Dtype::BF16 => DType::BF16,
            Dtype::I64 => DType::I64,
            Dtype::I32 => DType::I32,
            Dtype::U8 => DType::U8,
            Dtype::BOOL => DType::Bool,
            other => return Err(format!("tensor {name}: unsupported dtype {other:?}")),
        };
        out.push(RawTensor {
            name: strip_module_prefix(name).to_string(),
            dtype,
            shape: view.shape().to_vec(),
            data: view.data().to_vec(),
        });
    }
    Ok(out)
}
