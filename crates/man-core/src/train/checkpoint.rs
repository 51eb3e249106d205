//! One safetensors file per checkpoint: every variable of both networks
//! (BatchNorm running statistics included) as `net1.<name>` / `net2.<name>`,
//! Adam's moments as `adam.exp_avg.<param>` / `adam.exp_avg_sq.<param>`, and
//! in the header the Adam step and lr plus the caller's metadata JSON. Saving
//! is atomic; loading checks every tensor before it changes anything, so a
//! bad file leaves the trainer as it was.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, View};
use tch::{Device, Kind, Tensor};

use super::trainer::{net_prefix, Trainer};
use crate::{ManError, Result};

const FORMAT: &str = "man-fer-trainer-1";
const KEY_FORMAT: &str = "format";
const KEY_CLASSES: &str = "num_classes";
const KEY_STEP: &str = "adam.step";
const KEY_LR: &str = "adam.lr";
const KEY_METADATA: &str = "metadata";
/// Two ResNet-18s with Adam's moments take ~270 MB; a file far larger is not one of ours.
const MAX_CHECKPOINT_BYTES: u64 = 16 << 30;

fn dtype_of(kind: Kind) -> Result<Dtype> {
    match kind {
        Kind::Float => Ok(Dtype::F32),
        Kind::Double => Ok(Dtype::F64),
        Kind::Half => Ok(Dtype::F16),
        Kind::BFloat16 => Ok(Dtype::BF16),
        Kind::Int64 => Ok(Dtype::I64),
        Kind::Int => Ok(Dtype::I32),
        other => Err(ManError::Weights(format!("cannot store a tensor of kind {other:?}"))),
    }
}

fn kind_of(dtype: Dtype) -> Option<Kind> {
    match dtype {
        Dtype::F32 => Some(Kind::Float),
        Dtype::F64 => Some(Kind::Double),
        Dtype::F16 => Some(Kind::Half),
        Dtype::BF16 => Some(Kind::BFloat16),
        Dtype::I64 => Some(Kind::Int64),
        Dtype::I32 => Some(Kind::Int),
        _ => None,
    }
}

/// One tensor as safetensors writes it, read only when its turn comes: a
/// contiguous CPU tensor is written straight from its memory; any other is
/// copied to the host one at a time. So saving needs no second copy of the
/// checkpoint in memory (it used to take ~270 MB at once, the peak of a run).
struct Lazy<'a> {
    tensor: Tensor,
    dtype: Dtype,
    shape: Vec<usize>,
    len: usize,
    /// The first copy that failed; `save` reports it and discards the file.
    failed: &'a RefCell<Option<ManError>>,
}

impl<'a> Lazy<'a> {
    fn new(t: &Tensor, failed: &'a RefCell<Option<ManError>>) -> Result<Self> {
        let tensor = t.f_detach()?;
        let kind = tensor.f_kind()?;
        let shape = tensor.size().iter().map(|&d| d as usize).collect();
        let len = tensor.numel() * kind.elt_size_in_bytes();
        Ok(Lazy { tensor, dtype: dtype_of(kind)?, shape, len, failed })
    }

    fn host_copy(&self) -> Result<Vec<u8>> {
        let t = self.tensor.f_to_device(Device::Cpu)?.f_contiguous()?;
        let mut bytes = vec![0u8; self.len];
        t.f_copy_data_u8(&mut bytes, t.numel())?;
        Ok(bytes)
    }
}

impl View for Lazy<'_> {
    fn dtype(&self) -> Dtype {
        self.dtype
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        if self.len == 0 {
            return Cow::Borrowed(&[]);
        }
        if self.tensor.device() == Device::Cpu && self.tensor.is_contiguous() {
            // SAFETY: a contiguous CPU tensor holds `len` bytes at data_ptr,
            // kept alive by `self.tensor` for as long as the borrow of self.
            return Cow::Borrowed(unsafe { std::slice::from_raw_parts(self.tensor.data_ptr() as *const u8, self.len) });
        }
        match self.host_copy() {
            Ok(bytes) => Cow::Owned(bytes),
            Err(e) => {
                self.failed.borrow_mut().get_or_insert(e);
                Cow::Owned(vec![0u8; self.len])
            }
        }
    }

    fn data_len(&self) -> usize {
        self.len
    }
}

/// Every tensor a checkpoint of `trainer` holds, by name.
fn named_tensors(trainer: &Trainer) -> Vec<(String, Tensor)> {
    let mut out = Vec::new();
    for k in 0..2 {
        for (name, t) in trainer.variables(k) {
            out.push((format!("{}{name}", net_prefix(k)), t));
        }
    }
    for p in trainer.adam.params() {
        out.push((format!("adam.exp_avg.{}", p.name), p.exp_avg.shallow_clone()));
        out.push((format!("adam.exp_avg_sq.{}", p.name), p.exp_avg_sq.shallow_clone()));
    }
    out
}

/// Has `write` create a temporary file in the same directory as `path`, then
/// syncs it and renames it over `path`: a crash leaves either the old file or
/// the new one, never a torn one.
pub fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| ManError::Config(format!("checkpoint path {} names no file", path.display())))?;
    let tmp = dir.join(format!(".{}.tmp-{}", file_name.to_string_lossy(), std::process::id()));
    let written = write(&tmp).and_then(|()| {
        std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(|e| ManError::io(&tmp, e))
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(ManError::io(path, e));
    }
    // The rename is durable only once the directory entry is on disk.
    std::fs::File::open(&dir).and_then(|d| d.sync_all()).map_err(|e| ManError::io(&dir, e))
}

/// Saves both networks, the Adam state and `metadata` (a JSON string).
pub fn save(trainer: &Trainer, path: &Path, metadata: &str) -> Result<()> {
    serde_json::from_str::<serde_json::Value>(metadata)
        .map_err(|e| ManError::Config(format!("checkpoint metadata is not valid JSON: {e}")))?;
    let tensors = named_tensors(trainer);
    // A diverged trainer must not overwrite the last good checkpoint.
    for (name, t) in &tensors {
        if crate::finite::has_non_finite(t)? {
            return Err(ManError::Diverged(format!(
                "{}: not saved: tensor {name} holds NaN or infinite values (training diverged)",
                path.display()
            )));
        }
    }
    let failed = RefCell::new(None);
    let views = tensors
        .into_iter()
        .map(|(name, t)| Ok((name, Lazy::new(&t, &failed)?)))
        .collect::<Result<Vec<_>>>()?;
    let header: HashMap<String, String> = [
        (KEY_FORMAT, FORMAT.to_string()),
        (KEY_CLASSES, trainer.num_classes().to_string()),
        (KEY_STEP, trainer.adam.step_count().to_string()),
        // Display of an f64 is the shortest string that parses back to the same value.
        (KEY_LR, trainer.adam.lr().to_string()),
        (KEY_METADATA, metadata.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    // Streamed to disk, one tensor at a time.
    write_atomically(path, |tmp| {
        safetensors::serialize_to_file(views, Some(header), tmp).map_err(|e| match e {
            safetensors::SafeTensorError::IoError(io) => ManError::io(tmp, io),
            other => ManError::Weights(format!("{}: cannot write checkpoint: {other}", path.display())),
        })?;
        failed.take().map_or(Ok(()), Err)
    })
}

/// Restores what `save` wrote into `trainer`; returns the metadata JSON string.
pub fn load(trainer: &mut Trainer, path: &Path) -> Result<String> {
    let file = path.display().to_string();
    let bad = |msg: String| ManError::Weights(format!("{file}: {msg}"));
    let bytes = crate::files::read_regular_file(path, MAX_CHECKPOINT_BYTES, "per checkpoint")?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| bad(format!("not a safetensors checkpoint ({e})")))?;
    let header = meta.metadata().clone().unwrap_or_default();
    let field = |key: &str| {
        header.get(key).cloned().ok_or_else(|| bad(format!("header lacks '{key}' (not a man-fer checkpoint)")))
    };
    let format = field(KEY_FORMAT)?;
    if format != FORMAT {
        return Err(bad(format!("checkpoint format '{format}', expected '{FORMAT}'")));
    }
    let step: i64 = field(KEY_STEP)?.parse().map_err(|e| bad(format!("bad '{KEY_STEP}': {e}")))?;
    let lr: f64 = field(KEY_LR)?.parse().map_err(|e| bad(format!("bad '{KEY_LR}': {e}")))?;
    let metadata = field(KEY_METADATA)?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(format!("not a safetensors checkpoint ({e})")))?;

    // Check everything first, then copy one tensor at a time (a host copy of
    // the whole checkpoint at once would add its full size to the peak).
    let targets = named_tensors(trainer);
    let mut sources = Vec::with_capacity(targets.len());
    for (name, target) in &targets {
        let view = st.tensor(name).map_err(|_| bad(format!("checkpoint lacks tensor '{name}'")))?;
        let expected: Vec<usize> = target.size().iter().map(|&d| d as usize).collect();
        if view.shape() != expected.as_slice() {
            return Err(bad(format!(
                "tensor '{name}' has shape {:?}, this trainer expects {expected:?} \
                 (saved with another number of classes?)",
                view.shape()
            )));
        }
        let kind = kind_of(view.dtype())
            .ok_or_else(|| bad(format!("tensor '{name}' has unsupported dtype {:?}", view.dtype())))?;
        let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        sources.push((view, shape, kind));
    }
    let _guard = tch::no_grad_guard();
    for ((_, target), (view, shape, kind)) in targets.iter().zip(&sources) {
        let source = Tensor::f_from_data_size(view.data(), shape, *kind)?;
        let mut target = target.shallow_clone();
        target.f_copy_(&source)?;
    }
    trainer.adam.set_step_count(step)?;
    trainer.adam.set_lr(lr)?;
    Ok(metadata)
}
