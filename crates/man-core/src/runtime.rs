//! What the addon runs on: the libtorch it was built against, devices, threads.

use serde::Serialize;

/// The libtorch version whose headers this crate was compiled against
/// (read by build.rs from `torch/version.h`).
pub const TORCH_VERSION: &str = env!("MAN_TORCH_VERSION");

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeInfo {
    pub torch_version: String,
    pub cuda_available: bool,
    pub cuda_device_count: i64,
    pub threads: i32,
    pub core_version: String,
}

pub fn runtime_info() -> RuntimeInfo {
    RuntimeInfo {
        torch_version: TORCH_VERSION.to_string(),
        cuda_available: tch::Cuda::is_available(),
        cuda_device_count: tch::Cuda::device_count(),
        threads: tch::get_num_threads(),
        core_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// The intra-op thread count asked for last; 0 = libtorch's default.
static THREADS: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

thread_local! {
    /// The count `apply_threads_here` last set on this thread.
    static APPLIED: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

/// Sets libtorch's intra-op thread count; 0 leaves libtorch's default.
pub fn set_threads(n: i32) {
    if n > 0 {
        THREADS.store(n, std::sync::atomic::Ordering::Relaxed);
        tch::set_num_threads(n);
        APPLIED.with(|a| a.set(n));
    }
}

/// Sets the intra-op thread count on the calling thread, once per thread and
/// count. libtorch's setting goes through OpenMP, whose thread count belongs
/// to the thread that set it, so the worker threads the addon computes on
/// set it too (docs/performance.md, "Worker threads", has the measurement).
pub fn apply_threads_here() {
    let asked = THREADS.load(std::sync::atomic::Ordering::Relaxed);
    APPLIED.with(|applied| {
        let n = if asked > 0 { asked } else { tch::get_num_threads() };
        if n > 0 && applied.get() != n {
            tch::set_num_threads(n);
            applied.set(n);
        }
    });
}

/// Hands memory that the C allocator holds but no longer uses back to the
/// operating system, and says whether any was.
///
/// Training allocates and frees activations from several thread pools (the
/// caller's, rayon's and libtorch's OpenMP threads); glibc keeps each thread's
/// freed blocks in per-thread arenas, so resident memory creeps up over the
/// first epochs without anything leaking. `train()` calls this at the end of
/// every epoch (its cost is in docs/performance.md). Elsewhere than glibc it
/// does nothing and returns false.
pub fn release_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only walks the allocator's own free lists.
        unsafe { libc::malloc_trim(0) != 0 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Resolves a device name (`auto`, `cpu`, `cuda`, `cuda:N`).
pub fn parse_device(name: &str) -> crate::Result<tch::Device> {
    match name {
        "auto" => Ok(tch::Device::cuda_if_available()),
        "cpu" => Ok(tch::Device::Cpu),
        "cuda" => {
            if tch::Cuda::is_available() {
                Ok(tch::Device::Cuda(0))
            } else {
                Err(crate::ManError::Config(
                    "device 'cuda' was asked for but libtorch sees no CUDA device".into(),
                ))
            }
        }
        other => match other.strip_prefix("cuda:").and_then(|n| n.parse::<usize>().ok()) {
            Some(i) if (i as i64) < tch::Cuda::device_count() => Ok(tch::Device::Cuda(i)),
            Some(i) => Err(crate::ManError::Config(format!(
                "device 'cuda:{i}' does not exist ({} CUDA devices)",
                tch::Cuda::device_count()
            ))),
            None => Err(crate::ManError::Config(format!(
                "unknown device '{other}' (expected auto, cpu, cuda or cuda:N)"
            ))),
        },
    }
}
