//! Runs man-core work on the libuv thread pool. Every computation goes through
//! `catch_panics`, so neither a Rust panic nor a libtorch exception can unwind
//! into a worker thread and abort Node.

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{Env, Status, Task};

use man_core::{catch_panics, ManError};

/// `"ERR_MAN_X: message"`; the TypeScript side splits the code off into `err.code`.
pub fn to_napi(e: ManError) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("{}: {}", e.code(), e))
}

/// Runs `f` now, on the calling thread, with the same error treatment as a task.
pub fn run_sync<T>(f: impl FnOnce() -> man_core::Result<T>) -> napi::Result<T> {
    catch_panics(f).map_err(to_napi)
}

type Job<T> = Box<dyn FnOnce() -> man_core::Result<T> + Send>;

pub struct Compute<T: Send + 'static> {
    job: Option<Job<T>>,
}

impl<T: Send + 'static> Compute<T> {
    pub fn new(job: impl FnOnce() -> man_core::Result<T> + Send + 'static) -> Self {
        Compute { job: Some(Box::new(job)) }
    }
}

impl<T> Task for Compute<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> napi::Result<T> {
        let job = self
            .job
            .take()
            .ok_or_else(|| to_napi(ManError::Panic("task computed twice".into())))?;
        run_sync(|| {
            man_core::runtime::apply_threads_here();
            job()
        })
    }

    fn resolve(&mut self, _env: Env, output: T) -> napi::Result<T> {
        Ok(output)
    }
}
