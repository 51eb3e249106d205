//! Host memory for the views of training and prediction batches. Buffers are
//! kept and reused, because a fresh multi-megabyte allocation per 224-px batch
//! costs page faults worth about twice the views themselves; on CUDA they are
//! page-locked so the copy to the device can be asynchronous. A batch's views
//! can be built on another thread while the previous batch trains.

use std::sync::{Mutex, PoisonError};

use tch::{Device, Kind, Tensor};

use crate::data::{Dataset, View};
use crate::{ManError, Result};

/// Free buffers kept: the views of one training batch and of the next
/// (weak and strong each); prediction needs two.
const KEPT: usize = 4;

/// What a batch of views is a function of; a prepared batch is used only for an equal request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BatchKey {
    pub dataset: u64,
    pub view: View,
    pub epoch: u32,
    pub salt: u64,
    pub indices: Vec<u32>,
    /// Samples that also need a strong view (the noisy subset, in batch order).
    pub strong: Option<Vec<u32>>,
}

pub(crate) struct BufferPool {
    pinned_for: Option<Device>,
    free: Mutex<Vec<Tensor>>,
}

impl BufferPool {
    pub fn new(device: Device) -> Self {
        BufferPool {
            pinned_for: device.is_cuda().then_some(device),
            free: Mutex::new(Vec::new()),
        }
    }

    /// A 1-D float32 CPU buffer of at least `len` values; a new one holds `capacity`.
    fn take(&self, len: usize, capacity: usize) -> Result<Tensor> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pos) = free.iter().position(|t| t.numel() >= len) {
            return Ok(free.swap_remove(pos));
        }
        drop(free);
        let t = Tensor::f_empty([capacity.max(len) as i64], (Kind::Float, Device::Cpu))?;
        Ok(match self.pinned_for {
            Some(device) => t.f_pin_memory(device)?,
            None => t,
        })
    }

    fn give(&self, t: Tensor) {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        free.push(t);
        if free.len() > KEPT {
            // Keep the largest: they serve every request the small ones would.
            free.sort_by_key(|t| std::cmp::Reverse(t.numel()));
            free.truncate(KEPT);
        }
    }

    /// Buffers for `key`'s views, sized for a full batch so that the strong
    /// views of a later batch with more noisy samples fit as well.
    fn take_for(&self, per_sample: usize, key: &BatchKey) -> Result<(Tensor, Option<Tensor>)> {
        let full = key.indices.len() * per_sample;
        let first = self.take(full, full)?;
        let strong = match &key.strong {
            Some(s) if !s.is_empty() => Some(self.take(s.len() * per_sample, full)?),
            _ => None,
        };
        Ok((first, strong))
    }
}

/// The views of one batch, in pool buffers.
pub(crate) struct HostViews {
    pub key: BatchKey,
    first: Tensor,
    strong: Option<Tensor>,
    side: i64,
}

/// `buffer`'s first `len` values, for the image pipeline to write into.
fn host_slice(buffer: &mut Tensor, len: usize) -> Result<&mut [f32]> {
    if buffer.kind() != Kind::Float || buffer.device() != Device::Cpu || !buffer.is_contiguous() || buffer.numel() < len
    {
        return Err(ManError::Shape(format!(
            "batch buffer must be a contiguous CPU float32 tensor of at least {len} values, got {:?} {:?} of {}",
            buffer.kind(),
            buffer.device(),
            buffer.numel()
        )));
    }
    // SAFETY: the buffer is a contiguous float32 CPU tensor of at least `len`
    // values, created by `BufferPool::take` and owned here by value: the
    // tensors that viewed it during its previous use were dropped before it
    // went back to the pool, so nothing else reads or writes its storage, and
    // the slice borrows the tensor mutably, so it cannot outlive it.
    Ok(unsafe { std::slice::from_raw_parts_mut(buffer.data_ptr().cast::<f32>(), len) })
}

fn nchw(buffer: &Tensor, rows: usize, side: i64) -> Result<Tensor> {
    let rows = rows as i64;
    Ok(buffer
        .f_narrow(0, 0, rows * 3 * side * side)?
        .f_view([rows, 3, side, side])?)
}

impl HostViews {
    /// Builds the views of `key` into the pool's buffers.
    pub fn build(ds: &Dataset, key: BatchKey, pool: &BufferPool) -> Result<Self> {
        let (first, strong) = pool.take_for(ds.sample_len(), &key)?;
        Self::build_into(ds, key, first, strong, pool)
    }

    /// As `build`, with buffers already taken (a buffer goes back to the pool if building fails).
    fn build_into(
        ds: &Dataset,
        key: BatchKey,
        first: Tensor,
        strong: Option<Tensor>,
        pool: &BufferPool,
    ) -> Result<Self> {
        let mut views = HostViews {
            key,
            first,
            strong,
            side: i64::from(ds.image_size()),
        };
        match views.fill(ds) {
            Ok(()) => Ok(views),
            Err(e) => {
                views.release(pool);
                Err(e)
            }
        }
    }

    fn fill(&mut self, ds: &Dataset) -> Result<()> {
        let per = ds.sample_len();
        let k = &self.key;
        ds.batch_into(
            &k.indices,
            k.view,
            k.epoch,
            k.salt,
            host_slice(&mut self.first, k.indices.len() * per)?,
        )?;
        if let (Some(buffer), Some(strong)) = (self.strong.as_mut(), k.strong.as_ref()) {
            ds.batch_into(
                strong,
                View::Strong,
                k.epoch,
                k.salt,
                host_slice(buffer, strong.len() * per)?,
            )?;
        }
        Ok(())
    }

    /// N×3×S×S views of `key.indices`, sharing the buffer.
    pub fn first(&self) -> Result<Tensor> {
        nchw(&self.first, self.key.indices.len(), self.side)
    }

    /// Strong views of `key.strong`; None when there are none.
    pub fn strong(&self) -> Result<Option<Tensor>> {
        match (&self.strong, &self.key.strong) {
            (Some(buffer), Some(rows)) => Ok(Some(nchw(buffer, rows.len(), self.side)?)),
            _ => Ok(None),
        }
    }

    /// Returns the buffers; every tensor made by `first`/`strong` must be gone by now.
    pub fn release(self, pool: &BufferPool) {
        pool.give(self.first);
        if let Some(s) = self.strong {
            pool.give(s);
        }
    }
}

/// Where the time of a step went, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepTiming {
    /// Waiting for views: building them, or waiting for the ones built ahead.
    pub data_ms: f64,
    /// The tensor work: forward, backward, optimiser, reading the results back.
    pub compute_ms: f64,
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `compute` on the views of `key` (prepared ahead when `ahead` holds
/// them, built now otherwise) while the views of `next`, if given, are built
/// on another thread; returns those for the following call. Building ahead
/// never fails the current step: a failed or unused batch is built again, and
/// reports its error, when it is asked for.
pub(crate) fn with_views<T>(
    ds: &Dataset,
    pool: &BufferPool,
    ahead: Option<HostViews>,
    key: BatchKey,
    next: Option<BatchKey>,
    compute: impl FnOnce(&HostViews) -> Result<T>,
) -> (Result<T>, Option<HostViews>, StepTiming) {
    let mut timing = StepTiming::default();
    let start = std::time::Instant::now();
    let views = match ahead {
        Some(v) if v.key == key => Ok(v),
        other => {
            if let Some(v) = other {
                v.release(pool);
            }
            HostViews::build(ds, key, pool)
        }
    };
    timing.data_ms = ms(start.elapsed());
    let views = match views {
        Ok(v) => v,
        Err(e) => return (Err(e), None, timing),
    };
    let buffers = next.and_then(|k| pool.take_for(ds.sample_len(), &k).ok().map(|b| (k, b)));
    let mut compute_ms = 0.0;
    let timed_compute = || {
        let t = std::time::Instant::now();
        let result = compute(&views);
        compute_ms = ms(t.elapsed());
        (result, std::time::Instant::now())
    };
    let ((result, computed), prepared) = match buffers {
        Some((k, (first, strong))) => {
            let (r, built) = ds.alongside(move || HostViews::build_into(ds, k, first, strong, pool).ok(), timed_compute);
            (r, built.flatten())
        }
        None => (timed_compute(), None),
    };
    timing.compute_ms = compute_ms;
    // Waiting for the next batch's views, when they took longer than the step.
    timing.data_ms += ms(computed.elapsed());
    views.release(pool);
    (result, prepared, timing)
}
