//! napi-rs glue over man-core: conversions and async tasks only. The
//! TypeScript interface in `ts/native/binding.ts` is the contract this file
//! implements.
#![deny(clippy::all)]

pub mod args;
pub mod dataset;
pub mod losses;
mod task;
pub mod trainer;
// After `trainer`: napi-derive names dist.rs's `impl JsTrainer` block after
// the struct's js_name only once it has seen the struct.
pub mod dist;

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use task::{run_sync, Compute};

#[napi(object)]
pub struct BindingRuntimeInfo {
    pub torch_version: String,
    pub cuda_available: bool,
    pub cuda_device_count: i64,
    pub threads: i32,
    pub addon_version: String,
}

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
        })
    })
}

#[napi]
pub fn set_threads(threads: i32) -> napi::Result<()> {
    run_sync(|| {
        man_core::runtime::set_threads(threads);
        Ok(())
    })
}

/// Returns the allocator's unused memory to the system (see man_core::runtime::release_memory).
#[napi]
pub fn release_memory() -> napi::Result<bool> {
    run_sync(|| Ok(man_core::runtime::release_memory()))
}

/// ResNet-18 forward + backward on a random batch, off the JS thread.
#[napi(ts_return_type = "Promise<number>")]
pub fn resnet_smoke(batch: i64, size: i64, classes: i64, seed: i64) -> AsyncTask<Compute<f64>> {
    AsyncTask::new(Compute::new(move || {
        man_core::smoke::resnet_forward_backward(batch, size, classes, seed)
    }))
}

/// Panics inside a task on purpose: lets the tests prove a panic becomes an error.
#[napi(ts_return_type = "Promise<number>")]
pub fn debug_panic() -> AsyncTask<Compute<f64>> {
    AsyncTask::new(Compute::new(|| panic!("deliberate panic for testing")))
}
