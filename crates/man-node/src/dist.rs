//! Data-parallel training: the `ProcessGroup` class (c10d through man-core)
//! and the trainer's data-parallel methods. Every collective blocks until all
//! ranks have called it, so each runs as a task off the JavaScript thread.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::{AsyncTask, Float64Array, Uint8Array};
use napi_derive::napi;

use man_core::dist::{DistEnv, JoinOptions, ProcessGroup, ReduceOp, DEFAULT_BUCKET_BYTES};
use man_core::train::StepStats;
use man_core::ManError;

use crate::args;
use crate::task::{run_sync, Compute};
use crate::trainer::JsTrainer;

#[napi(object)]
pub struct BindingDistEnv {
    pub rank: u32,
    pub world_size: u32,
    pub local_rank: u32,
    pub master_addr: String,
    pub master_port: u32,
    /// `torchrun` or `slurm`.
    pub source: String,
}

#[napi(object)]
pub struct BindingJoinOptions {
    pub timeout_ms: f64,
    /// CUDA tensors over NCCL (a build with the `nccl` feature), else over Gloo.
    pub nccl: bool,
}

#[napi(object)]
pub struct BindingDistSupport {
    pub gloo: bool,
    pub nccl: bool,
}

/// Where this process stands in a job (RANK/WORLD_SIZE/... or SLURM_*), or null outside one.
#[napi]
pub fn dist_env() -> napi::Result<Option<BindingDistEnv>> {
    run_sync(|| {
        Ok(DistEnv::from_env()?.map(|e| BindingDistEnv {
            rank: e.rank as u32,
            world_size: e.world_size as u32,
            local_rank: e.local_rank as u32,
            master_addr: e.master_addr,
            master_port: u32::from(e.master_port),
            source: e.source.to_string(),
        }))
    })
}

/// The c10d backends this build has.
#[napi]
pub fn dist_support() -> BindingDistSupport {
    BindingDistSupport { gloo: man_core::dist::has_gloo(), nccl: man_core::dist::has_nccl() }
}

/// Joins the process group the environment describes; resolves once every rank has joined.
#[napi(ts_return_type = "Promise<ProcessGroup>")]
pub fn join_process_group(options: BindingJoinOptions) -> AsyncTask<Compute<JsProcessGroup>> {
    AsyncTask::new(Compute::new(move || {
        let env = DistEnv::from_env()?.ok_or_else(|| {
            ManError::Dist("not started as part of a job: RANK/WORLD_SIZE (torchrun) or SLURM_PROCID/SLURM_NTASKS are not set".into())
        })?;
        let timeout = Duration::from_millis(args::uint("timeoutMs", options.timeout_ms, u32::MAX as u64)?.max(1));
        let group = ProcessGroup::join(&JoinOptions::from_env(&env, timeout, options.nccl))?;
        Ok(JsProcessGroup { inner: Arc::new(group) })
    }))
}

#[napi(js_name = "ProcessGroup")]
pub struct JsProcessGroup {
    pub(crate) inner: Arc<ProcessGroup>,
}

impl JsProcessGroup {
    fn task<T, F>(&self, job: F) -> AsyncTask<Compute<T>>
    where
        T: Send + 'static,
        F: FnOnce(&ProcessGroup) -> man_core::Result<T> + Send + 'static,
        Compute<T>: napi::Task,
    {
        let group = Arc::clone(&self.inner);
        AsyncTask::new(Compute::new(move || job(&group)))
    }
}

#[napi]
impl JsProcessGroup {
    #[napi(getter)]
    pub fn rank(&self) -> u32 {
        self.inner.rank() as u32
    }

    #[napi(getter)]
    pub fn world_size(&self) -> u32 {
        self.inner.world_size() as u32
    }

    #[napi(getter)]
    pub fn local_rank(&self) -> u32 {
        self.inner.local_rank() as u32
    }

    /// `gloo` or `gloo+nccl`.
    #[napi(getter)]
    pub fn backend(&self) -> String {
        self.inner.backend().to_string()
    }

    /// Element-wise sum over the ranks (same bits on every rank).
    #[napi(ts_return_type = "Promise<Float64Array>")]
    pub fn all_reduce_sum(&self, values: Float64Array) -> AsyncTask<Compute<Float64Array>> {
        let values = values.to_vec();
        self.task(move |g| Ok(Float64Array::new(g.all_reduce_f64(&values, ReduceOp::Sum)?)))
    }

    /// Every rank's bytes, in rank order (lengths may differ).
    #[napi(ts_return_type = "Promise<Uint8Array[]>")]
    pub fn all_gather(&self, data: Uint8Array) -> AsyncTask<Compute<Vec<Uint8Array>>> {
        let data = data.to_vec();
        self.task(move |g| Ok(g.all_gather_bytes(&data)?.into_iter().map(Uint8Array::new).collect()))
    }

    /// `root`'s bytes on every rank; the others' `data` is ignored.
    #[napi(ts_return_type = "Promise<Uint8Array>")]
    pub fn broadcast(&self, data: Uint8Array, root: f64) -> AsyncTask<Compute<Uint8Array>> {
        let data = data.to_vec();
        self.task(move |g| {
            let root = args::uint("root", root, g.world_size() as u64 - 1)? as usize;
            Ok(Uint8Array::new(g.broadcast_bytes(&data, root)?))
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn barrier(&self) -> AsyncTask<Compute<()>> {
        self.task(|g| Ok(g.barrier()?))
    }
}

#[napi]
impl JsTrainer {
    /// Joins `group` for gradient averaging and takes rank 0's weights,
    /// BatchNorm statistics and Adam state; every rank calls it at once.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn join_data_parallel(&self, group: &JsProcessGroup, bucket_mb: Option<f64>) -> napi::Result<AsyncTask<Compute<()>>> {
        let group = Arc::clone(&group.inner);
        let bytes = match bucket_mb {
            Some(mb) => run_sync(|| Ok(args::uint("bucketMb", mb, 4096)?.max(1) as usize * 1024 * 1024))?,
            None => DEFAULT_BUCKET_BYTES,
        };
        Ok(self.task(move |t| t.join_data_parallel(group, bytes)))
    }

    /// Rank 0's BatchNorm running statistics on every rank (before predicting or saving).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn sync_buffers(&self) -> AsyncTask<Compute<()>> {
        self.task(|t| t.sync_buffers())
    }

    /// A hash of both networks' trained parameters, as 16 hex digits.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn replica_checksum(&self) -> AsyncTask<Compute<String>> {
        self.task(|t| Ok(format!("{:016x}", t.replica_checksum()?)))
    }

    /// A step with no samples: a data-parallel rank whose shard of the batch is empty.
    #[napi(ts_return_type = "Promise<BindingStepResult>")]
    pub fn idle_step(&self) -> AsyncTask<Compute<StepStats>> {
        self.task(|t| t.idle_step())
    }
}
