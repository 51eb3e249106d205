//! PyTorch's distributed engine, c10d, for man-fer: a process group joined
//! through a TCPStore (rank 0 serves it), with Gloo for CPU tensors and,
//! when built with the `nccl` feature, NCCL for CUDA tensors (without it,
//! CUDA tensors go through Gloo, staged through host memory). The
//! collectives are c10d's own; this crate only carries tensors to them.

mod env;
mod ffi;

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ptr::NonNull;
use std::sync::Mutex;
use std::time::Duration;

use tch::{Kind, Tensor};

pub use env::DistEnv;

#[derive(Debug, thiserror::Error)]
pub enum DistError {
    #[error("{0}")]
    Env(String),
    /// A collective or the rendezvous failed; `message` is c10d's.
    #[error("{op} failed on rank {rank} of {world_size}: {message}{hint}")]
    Collective { op: &'static str, rank: usize, world_size: usize, message: String, hint: &'static str },
    #[error("{0}")]
    Usage(String),
}

impl DistError {
    fn env(message: String) -> Self {
        DistError::Env(message)
    }
}

pub type Result<T, E = DistError> = std::result::Result<T, E>;

/// What c10d says when a peer went away, to which the error adds a pointer to the likely cause.
fn hint_for(message: &str) -> &'static str {
    let lower = message.to_lowercase();
    let lost = ["closed by peer", "connection reset", "broken pipe", "timed out", "timeout", "connection refused"];
    if lost.iter().any(|s| lower.contains(s)) {
        " (another process of the job has probably stopped or is stuck: see its output)"
    } else {
        ""
    }
}

/// Builds with the Gloo backend (the shim was compiled with the Gloo headers).
pub fn has_gloo() -> bool {
    unsafe { ffi::man_dist_has_gloo() != 0 }
}

/// Builds with the NCCL backend (the `nccl` feature).
pub fn has_nccl() -> bool {
    unsafe { ffi::man_dist_has_nccl() != 0 }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Max,
    Min,
}

#[derive(Debug, Clone)]
pub struct JoinOptions {
    pub master_addr: String,
    pub master_port: u16,
    pub rank: usize,
    pub world_size: usize,
    pub local_rank: usize,
    /// For the rendezvous and for every collective: a stopped peer surfaces
    /// as an error after at most this long (Gloo usually notices sooner).
    pub timeout: Duration,
    /// Also make an NCCL backend for CUDA tensors (needs the `nccl` feature).
    pub nccl: bool,
}

impl JoinOptions {
    pub fn from_env(env: &DistEnv, timeout: Duration, nccl: bool) -> Self {
        JoinOptions {
            master_addr: env.master_addr.clone(),
            master_port: env.master_port,
            rank: env.rank,
            world_size: env.world_size,
            local_rank: env.local_rank,
            timeout,
            nccl,
        }
    }
}

/// One process's membership of the group. Collectives are issued in the same
/// order on every rank; a lock keeps concurrent callers in one process from
/// interleaving theirs.
pub struct ProcessGroup {
    raw: NonNull<ffi::ManPg>,
    rank: usize,
    world_size: usize,
    local_rank: usize,
    nccl: bool,
    lock: Mutex<()>,
}

// c10d's backends are thread-safe; the lock above orders this process's calls.
unsafe impl Send for ProcessGroup {}
unsafe impl Sync for ProcessGroup {}

fn tensor_ptr(t: &Tensor) -> *const c_void {
    t.as_ptr() as *const c_void
}

/// Takes the shim's error message and frees it.
fn take_error(err: *mut c_char) -> String {
    if err.is_null() {
        return "unknown error (no message)".into();
    }
    let message = unsafe { CStr::from_ptr(err) }.to_string_lossy().trim().to_string();
    unsafe { ffi::man_dist_free_error(err) };
    message
}

impl ProcessGroup {
    /// Blocks until every rank has joined (or `timeout` passes).
    pub fn join(o: &JoinOptions) -> Result<Self> {
        if o.world_size == 0 || o.rank >= o.world_size {
            return Err(DistError::Usage(format!("rank {} is not below world size {}", o.rank, o.world_size)));
        }
        if !has_gloo() {
            return Err(DistError::Usage(
                "this build of man-fer has no Gloo backend: its C++ shim was compiled without the Gloo headers \
                 (install libgloo-dev, or set MAN_GLOO_INCLUDE, and rebuild)"
                    .into(),
            ));
        }
        if o.nccl && !has_nccl() {
            return Err(DistError::Usage(
                "this build has no NCCL backend (cargo feature `nccl`); join without NCCL to use Gloo".into(),
            ));
        }
        let master = CString::new(o.master_addr.as_str())
            .map_err(|_| DistError::Usage("MASTER_ADDR contains a NUL byte".into()))?;
        let host = CString::new(env::gloo_host(&o.master_addr)).expect("no NUL");
        let timeout_ms = i64::try_from(o.timeout.as_millis()).unwrap_or(i64::MAX).max(1);
        let mut out: *mut ffi::ManPg = std::ptr::null_mut();
        let mut err: *mut c_char = std::ptr::null_mut();
        let join = ffi::ManJoin {
            master: master.as_ptr(),
            port: o.master_port,
            rank: o.rank as c_int,
            size: o.world_size as c_int,
            timeout_ms,
            gloo_host: host.as_ptr(),
            with_nccl: c_int::from(o.nccl),
        };
        let rc = unsafe { ffi::man_dist_init(&join, &mut out, &mut err) };
        if rc != 0 {
            let message = take_error(err);
            return Err(DistError::Collective {
                op: "joining the process group",
                rank: o.rank,
                world_size: o.world_size,
                hint: hint_for(&message),
                message: format!("{message} (MASTER_ADDR={}, MASTER_PORT={})", o.master_addr, o.master_port),
            });
        }
        let raw = NonNull::new(out).ok_or_else(|| DistError::Usage("the shim returned no process group".into()))?;
        Ok(ProcessGroup {
            raw,
            rank: o.rank,
            world_size: o.world_size,
            local_rank: o.local_rank,
            nccl: o.nccl,
            lock: Mutex::new(()),
        })
    }

    pub fn rank(&self) -> usize {
        self.rank
    }

    pub fn world_size(&self) -> usize {
        self.world_size
    }

    pub fn local_rank(&self) -> usize {
        self.local_rank
    }

    /// `gloo`, or `gloo+nccl` when CUDA tensors go over NCCL.
    pub fn backend(&self) -> &'static str {
        if self.nccl {
            "gloo+nccl"
        } else {
            "gloo"
        }
    }

    fn call(&self, op: &'static str, f: impl FnOnce(*mut ffi::ManPg, *mut *mut c_char) -> c_int) -> Result<()> {
        let _order = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut err: *mut c_char = std::ptr::null_mut();
        if f(self.raw.as_ptr(), &mut err) == 0 {
            return Ok(());
        }
        let message = take_error(err);
        Err(DistError::Collective { op, rank: self.rank, world_size: self.world_size, hint: hint_for(&message), message })
    }

    fn check_dense(op: &str, tensors: &[Tensor]) -> Result<()> {
        for (i, t) in tensors.iter().enumerate() {
            if !t.defined() || !t.is_contiguous() {
                return Err(DistError::Usage(format!("{op}: tensor {i} must be defined and contiguous")));
            }
        }
        Ok(())
    }

    /// In place on every tensor (each its own collective, all in flight at once).
    pub fn all_reduce(&self, tensors: &[Tensor], op: ReduceOp) -> Result<()> {
        Self::check_dense("all-reduce", tensors)?;
        let ptrs: Vec<*const c_void> = tensors.iter().map(tensor_ptr).collect();
        let op_code = match op {
            ReduceOp::Sum => 0,
            ReduceOp::Max => 1,
            ReduceOp::Min => 2,
        };
        self.call("all-reduce", |pg, err| unsafe {
            ffi::man_dist_all_reduce(pg, ptrs.as_ptr(), ptrs.len(), op_code, err)
        })
    }

    /// Overwrites every tensor with `root`'s, in place.
    pub fn broadcast(&self, tensors: &[Tensor], root: usize) -> Result<()> {
        Self::check_dense("broadcast", tensors)?;
        if root >= self.world_size {
            return Err(DistError::Usage(format!("broadcast root {root} is not a rank")));
        }
        let ptrs: Vec<*const c_void> = tensors.iter().map(tensor_ptr).collect();
        self.call("broadcast", |pg, err| unsafe {
            ffi::man_dist_broadcast(pg, ptrs.as_ptr(), ptrs.len(), root as c_int, err)
        })
    }

    /// Every rank's `t` (same shape everywhere), stacked: world size × t's shape.
    pub fn all_gather(&self, t: &Tensor) -> Result<Tensor> {
        let usage = |e: tch::TchError| DistError::Usage(format!("all-gather: {e}"));
        let input = t.f_contiguous().map_err(usage)?;
        // c10d wants the ranks' blocks along the first dimension of a flat output.
        let flat_input = input.f_reshape([-1]).map_err(usage)?;
        let n = flat_input.numel() as i64;
        let output = Tensor::f_empty([self.world_size as i64 * n], (input.kind(), input.device())).map_err(usage)?;
        let (out_ptr, in_ptr) = (tensor_ptr(&output), tensor_ptr(&flat_input));
        self.call("all-gather", |pg, err| unsafe { ffi::man_dist_all_gather(pg, out_ptr, in_ptr, err) })?;
        let mut shape = vec![self.world_size as i64];
        shape.extend(input.size());
        output.f_reshape(shape.as_slice()).map_err(usage)
    }

    pub fn barrier(&self) -> Result<()> {
        self.call("barrier", |pg, err| unsafe { ffi::man_dist_barrier(pg, err) })
    }

    /// All-reduce of f64 values on the CPU (Gloo): the small numbers ranks agree on.
    pub fn all_reduce_f64(&self, values: &[f64], op: ReduceOp) -> Result<Vec<f64>> {
        let t = Tensor::from_slice(values).to_kind(Kind::Double);
        self.all_reduce(std::slice::from_ref(&t), op)?;
        Vec::<f64>::try_from(&t).map_err(|e| DistError::Usage(format!("all-reduce: {e}")))
    }
}

impl ProcessGroup {
    /// Every rank's bytes, in rank order; lengths may differ between ranks.
    pub fn all_gather_bytes(&self, data: &[u8]) -> Result<Vec<Vec<u8>>> {
        let usage = |e: tch::TchError| DistError::Usage(format!("all-gather: {e}"));
        let lengths = self.all_gather(&Tensor::from_slice(&[data.len() as i64]))?;
        let lengths = Vec::<i64>::try_from(&lengths.flatten(0, -1)).map_err(usage)?;
        let longest = lengths.iter().copied().max().unwrap_or(0);
        if longest == 0 {
            return Ok(vec![Vec::new(); lengths.len()]);
        }
        let padded = Tensor::f_zeros([longest], (Kind::Uint8, tch::Device::Cpu)).map_err(usage)?;
        if !data.is_empty() {
            padded.f_narrow(0, 0, data.len() as i64).map_err(usage)?.f_copy_(&Tensor::from_slice(data)).map_err(usage)?;
        }
        let all = self.all_gather(&padded)?;
        let mut out = Vec::with_capacity(lengths.len());
        for (r, &n) in lengths.iter().enumerate() {
            let row = all.f_get(r as i64).map_err(usage)?.f_narrow(0, 0, n).map_err(usage)?;
            out.push(Vec::<u8>::try_from(&row).map_err(usage)?);
        }
        Ok(out)
    }

    /// `root`'s bytes on every rank; other ranks' `data` is ignored.
    pub fn broadcast_bytes(&self, data: &[u8], root: usize) -> Result<Vec<u8>> {
        let usage = |e: tch::TchError| DistError::Usage(format!("broadcast: {e}"));
        let len = Tensor::from_slice(&[data.len() as i64]);
        self.broadcast(std::slice::from_ref(&len), root)?;
        let n = len.int64_value(&[0]);
        let buf = if self.rank == root {
            Tensor::from_slice(data)
        } else {
            Tensor::f_zeros([n], (Kind::Uint8, tch::Device::Cpu)).map_err(usage)?
        };
        if n > 0 {
            self.broadcast(std::slice::from_ref(&buf), root)?;
        }
        Vec::<u8>::try_from(&buf).map_err(usage)
    }
}

/// Gives `param` a zero gradient if it has none yet, so that it can take
/// part in a gradient all-reduce before its first backward pass.
pub fn define_grad(param: &Tensor) -> Result<()> {
    let mut err: *mut c_char = std::ptr::null_mut();
    if unsafe { ffi::man_dist_define_grad(tensor_ptr(param), &mut err) } == 0 {
        Ok(())
    } else {
        Err(DistError::Usage(format!("cannot define a gradient: {}", take_error(err))))
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        unsafe { ffi::man_dist_destroy(self.raw.as_ptr()) };
    }
}
