//! napi-rs glue over man-core: conversions and async tasks only. `napi
//! build` generates `native.generated.d.ts` from these declarations (doc
//! comments included); that committed file is the contract, and
//! `ts/native/binding.ts` and the fake binding are type-checked against it.
#![deny(clippy::all)]

pub mod args;
pub mod dataset;
pub mod losses;
pub mod step_input;
mod task;
pub mod trainer;
// After `trainer`: napi-derive names dist.rs's `impl JsTrainer` block after
// the struct's js_name only once it has seen the struct.
pub mod dist;

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use task::{run_sync, Compute};

/// Runs when the addon is loaded, before it allocates tensors.
#[napi_derive::module_init]
fn init() {
    man_core::runtime::tune_allocator();
}

/// What the addon runs on.
#[napi(object)]
pub struct BindingRuntimeInfo {
    /// libtorch version the addon was compiled against, e.g. "2.11.0".
    pub torch_version: String,
    pub cuda_available: bool,
    pub cuda_device_count: i64,
    /// libtorch intra-op threads.
    pub threads: i32,
    pub addon_version: String,
    /// The CPU has Intel AMX with bf16 / AVX-512 BF16 (what `precision: 'auto'` looks at).
    pub cpu_amx_bf16: bool,
    pub cpu_avx512_bf16: bool,
    /// What `runtime.precision: 'auto'` chooses on the CPU: 'fp32' or 'bf16'.
    pub cpu_auto_precision: String,
}

/// libtorch's version, CUDA devices and thread count, and the addon's version.
#[napi]
pub fn runtime_info() -> napi::Result<BindingRuntimeInfo> {
    run_sync(|| {
        let info = man_core::runtime::runtime_info();
        Ok(BindingRuntimeInfo {
            torch_version: info.torch_version,
            cuda_available: info.cuda_available,
            cuda_device_count: info.cuda_device_count,
            threads: info.threads,
            addon_version: env!("CARGO_PKG_VERSION").to_string(),
            cpu_amx_bf16: info.cpu_amx_bf16,
            cpu_avx512_bf16: info.cpu_avx512_bf16,
            cpu_auto_precision: info.cpu_auto_precision,
        })
    })
}

/// libtorch intra-op threads, for this thread and every task started after.
#[napi]
pub fn set_threads(threads: i32) -> napi::Result<()> {
    run_sync(|| {
        man_core::runtime::set_threads(threads);
        Ok(())
    })
}

/// Returns memory the C allocator holds but no longer uses to the system
/// (glibc's malloc_trim); true if it released any.
#[napi]
pub fn release_memory() -> napi::Result<bool> {
    run_sync(|| Ok(man_core::runtime::release_memory()))
}

/// ResNet-18 forward + backward on a random batch, off the JavaScript thread; resolves to the loss.
#[napi(ts_return_type = "Promise<number>")]
pub fn resnet_smoke(batch: i64, size: i64, classes: i64, seed: i64) -> AsyncTask<Compute<f64>> {
    AsyncTask::new(Compute::new(move || {
        man_core::smoke::resnet_forward_backward(batch, size, classes, seed)
    }))
}

/// Rejects from a deliberate panic inside a task: proves a panic becomes an error, not an abort.
#[napi(ts_return_type = "Promise<number>")]
pub fn debug_panic() -> AsyncTask<Compute<f64>> {
    AsyncTask::new(Compute::new(|| panic!("deliberate panic for testing")))
}
