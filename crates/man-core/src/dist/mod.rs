//! Data-parallel training, the pattern of PyTorch's DistributedDataParallel
//! without a DDP module (libtorch has none): one process per device, every
//! rank starting from rank 0's state, the gradients of both networks
//! averaged across ranks in a few buckets between backward and the Adam
//! step, so that every rank takes the same step and the weights stay
//! bit-identical. BatchNorm normalises with each rank's own batch
//! statistics (no SyncBatchNorm); the running statistics used for
//! prediction are rank 0's, broadcast before each prediction pass and save,
//! as DDP's `broadcast_buffers` does. The collectives are c10d's, through
//! the man-dist crate.

mod buckets;
mod replica;

use std::sync::Arc;

pub use man_dist::{has_gloo, has_nccl, DistEnv, DistError, JoinOptions, ProcessGroup, ReduceOp};

pub(crate) use buckets::GradientBuckets;

use crate::Result;

/// DDP's default bucket size.
pub const DEFAULT_BUCKET_BYTES: usize = 25 * 1024 * 1024;

/// A trainer's membership of a process group.
pub struct DataParallel {
    pub(crate) group: Arc<ProcessGroup>,
    pub(crate) buckets: GradientBuckets,
}

/// Between backward and the Adam step: averages the gradients across ranks
/// when data-parallel. Every rank takes part, `trained` or not (a rank whose
/// shard had nothing to train on contributes zeros). Returns whether the
/// step is due: this rank trained, or (data-parallel) any rank did.
pub(crate) fn sync_gradients(dp: Option<&mut DataParallel>, trained: bool) -> Result<bool> {
    match dp {
        None => Ok(trained),
        Some(dp) => dp.buckets.average(&dp.group, trained),
    }
}
