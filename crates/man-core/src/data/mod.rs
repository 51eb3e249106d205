//! The image pipeline: decode once, cache decoded pixels, produce test / weak /
//! strong views (METHOD.md) as normalised f32 NCHW batches, in parallel.
//! Every view is a pure function of (seed, epoch, sample index, view, salt).
//!
//! STUB: the public API below is the contract used by the trainer and the
//! binding; the implementation is being written (issue: native core).

use std::path::PathBuf;

use crate::{ManError, Result};

/// Which augmentation pipeline of METHOD.md produces a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Test,
    Weak,
    Strong,
}

#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// Output height and width.
    pub image_size: u32,
    pub seed: u64,
    /// Budget for decoded pixels kept in memory.
    pub cache_bytes: usize,
    /// Worker threads; 0 = all cores.
    pub threads: usize,
}

pub struct DecodeFailure {
    pub index: usize,
    pub path: String,
    pub error: ManError,
}

pub struct Dataset {
    names: Vec<String>,
    opts: PipelineOptions,
}

impl Dataset {
    pub fn from_paths(paths: Vec<PathBuf>, opts: PipelineOptions) -> Result<Self> {
        let names = paths.iter().map(|p| p.display().to_string()).collect();
        Ok(Dataset { names, opts })
    }

    /// Encoded images held in memory; `name` labels each in error messages.
    pub fn from_buffers(items: Vec<(String, Vec<u8>)>, opts: PipelineOptions) -> Result<Self> {
        let names = items.into_iter().map(|(n, _)| n).collect();
        Ok(Dataset { names, opts })
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn image_size(&self) -> u32 {
        self.opts.image_size
    }

    /// Decodes every image once; returns the ones that failed.
    pub fn scan(&self) -> Vec<DecodeFailure> {
        Vec::new()
    }

    /// Normalised f32 NCHW pixels (len = n·3·S·S) of `indices`. `salt`
    /// separates independent random draws of the same view in one epoch
    /// (0 for training batches).
    pub fn batch(&self, _indices: &[u32], _view: View, _epoch: u32, _salt: u64) -> Result<Vec<f32>> {
        Err(ManError::Config("image pipeline not implemented yet".into()))
    }
}
