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
    /// The CPU's native bf16 (what `precision: 'auto'` looks at).
    pub cpu_amx_bf16: bool,
    pub cpu_avx512_bf16: bool,
    /// What `precision: 'auto'` chooses on the CPU: `fp32` or `bf16`.
    pub cpu_auto_precision: String,
}

pub fn runtime_info() -> RuntimeInfo {
    use crate::train::precision::{cpu_bf16, resolve, PrecisionRequest};
    let cpu = cpu_bf16();
    RuntimeInfo {
        cpu_amx_bf16: cpu.amx_bf16,
        cpu_avx512_bf16: cpu.avx512_bf16,
        cpu_auto_precision: resolve(PrecisionRequest::Auto, tch::Device::Cpu, cpu).name().into(),
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

/// Blocks of at least this many bytes are mapped from and returned to the
/// operating system on their own (glibc's `M_MMAP_THRESHOLD`).
pub const MMAP_THRESHOLD: i32 = 1 << 20;

/// glibc arenas the process may create from now on.
pub const MALLOC_ARENAS: i32 = 2;

/// Tunes glibc's allocator for tensor work; returns whether it did.
///
/// glibc raises its mmap threshold each time a mapped block is freed (up to
/// 32 MiB), after which activations of that size come from the heap arenas,
/// and a freed block stays in the arena of the thread that allocated it
/// (libuv's four pool threads, rayon's, OpenMP's): each arena then keeps a
/// step's worth of free memory. A fixed threshold keeps every tensor of a
/// MiB or more mapped, so freeing it returns it at once; the cap on arenas
/// limits the rest. Costs page faults on each large allocation (measured in
/// docs/performance.md, "Memory"). Called when the addon is loaded; an
/// explicit `MALLOC_MMAP_THRESHOLD_`, `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES`
/// wins. Elsewhere than glibc it does nothing and returns false.
pub fn tune_allocator() -> bool {
    let mapped = set_allocator(Allocator::Lean);
    let arenas = set_malloc_param("MALLOC_ARENA_MAX", "arena_max", ARENA_MAX_PARAM, MALLOC_ARENAS);
    mapped || arenas
}

/// How the C allocator serves tensor memory (`runtime.allocator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Allocator {
    /// Blocks of [`MMAP_THRESHOLD`] or more mapped on their own and returned
    /// at once when freed: the smallest peak, a page fault per page of every
    /// large activation of every step.
    #[default]
    Lean,
    /// Blocks up to [`FAST_MMAP_THRESHOLD`] served from the heap and kept
    /// for reuse (glibc's own behaviour once its dynamic threshold has
    /// risen): fewer page faults, a higher peak.
    Fast,
}

impl Allocator {
    pub fn parse(name: &str) -> crate::Result<Self> {
        match name {
            "lean" => Ok(Self::Lean),
            "fast" => Ok(Self::Fast),
            other => Err(crate::ManError::Config(format!("allocator must be 'lean' or 'fast', got '{other}'"))),
        }
    }
}

/// `fast`'s mmap threshold: the most glibc accepts (its dynamic threshold's ceiling on 64-bit).
pub const FAST_MMAP_THRESHOLD: i32 = 32 << 20;
/// `fast`'s trim threshold (twice the mmap threshold, as glibc sets it when it raises the threshold itself).
pub const FAST_TRIM_THRESHOLD: i32 = 64 << 20;
/// glibc's default trim threshold, which `lean` keeps.
const DEFAULT_TRIM_THRESHOLD: i32 = 128 << 10;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENA_MAX_PARAM: i32 = libc::M_ARENA_MAX;
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
const ARENA_MAX_PARAM: i32 = 0;

/// Sets one glibc malloc parameter unless the environment already does
/// (`env`, or `tunable` in `GLIBC_TUNABLES`); returns whether it did.
fn set_malloc_param(env: &str, tunable: &str, param: i32, value: i32) -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        if std::env::var_os(env).is_some() || tunables.contains(tunable) {
            return false;
        }
        // SAFETY: mallopt only sets a parameter of the allocator, under its own lock.
        unsafe { libc::mallopt(param, value) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = (env, tunable, param, value);
        false
    }
}

/// Switches the process's allocator to `mode` (process-wide: every trainer
/// and dataset of the process shares it) and says whether it could: not
/// where `MALLOC_MMAP_THRESHOLD_` (or `GLIBC_TUNABLES`' mmap_threshold) is
/// set, which wins, nor elsewhere than glibc. The addon starts `Lean`.
pub fn set_allocator(mode: Allocator) -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let (mmap, trim) = match mode {
            Allocator::Lean => (MMAP_THRESHOLD, DEFAULT_TRIM_THRESHOLD),
            Allocator::Fast => (FAST_MMAP_THRESHOLD, FAST_TRIM_THRESHOLD),
        };
        let mapped = set_malloc_param("MALLOC_MMAP_THRESHOLD_", "mmap_threshold", libc::M_MMAP_THRESHOLD, mmap);
        if mapped {
            set_malloc_param("MALLOC_TRIM_THRESHOLD_", "trim_threshold", libc::M_TRIM_THRESHOLD, trim);
        }
        mapped
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = mode;
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
