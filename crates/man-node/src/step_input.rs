//! What a training step takes from JavaScript: its batch and, optionally,
//! the batch the next step will ask for.

use napi::bindgen_prelude::{Int32Array, Uint32Array, Uint8Array};
use napi_derive::napi;

use man_core::train::{Batch, NextBatch};
use man_core::Result;

use crate::args;

/// One training batch: samples of a dataset, the epoch whose views they
/// train on, their given labels and, for a co-division step, their codes.
#[napi(object)]
pub struct BindingBatch {
    /// Views are a function of (seed, epoch, sample, view).
    pub epoch: f64,
    /// Sample indices into the dataset.
    pub indices: Uint32Array,
    /// Given label per sample.
    pub labels: Int32Array,
    /// One `Partition` per sample: required by `coDivisionStep`, ignored by `warmupStep`.
    #[napi(ts_type = "Uint8Array | null")]
    pub codes: Option<Option<Uint8Array>>,
}

/// The batch the next step will ask for (same dataset and epoch): its views
/// are built while this step trains. Any later request is still right, only
/// not prepared.
#[napi(object)]
pub struct BindingNextBatch {
    pub indices: Uint32Array,
    /// The next co-division batch's codes: its noisy samples get strong views too.
    #[napi(ts_type = "Uint8Array | null")]
    pub codes: Option<Option<Uint8Array>>,
}


/// A step's batch and announced next batch, copied out of JavaScript memory
/// so that the task computing the step on another thread owns them.
pub struct StepInput {
    epoch: f64,
    indices: Vec<u32>,
    labels: Vec<i32>,
    codes: Option<Vec<u8>>,
    next: Option<(Vec<u32>, Option<Vec<u8>>)>,
}

impl StepInput {
    pub fn new(batch: BindingBatch, next: Option<BindingNextBatch>) -> Self {
        // Two Options: napi reads an absent field as the outer None, and a
        // present one through Option's own conversion, which takes null as None.
        let copy = |codes: Option<Option<Uint8Array>>| codes.flatten().map(|c| c.to_vec());
        StepInput {
            epoch: batch.epoch,
            indices: batch.indices.to_vec(),
            labels: batch.labels.to_vec(),
            codes: copy(batch.codes),
            next: next.map(|n| (n.indices.to_vec(), copy(n.codes))),
        }
    }

    pub fn batch(&self) -> Result<Batch<'_>> {
        Ok(Batch {
            epoch: args::u32_arg("epoch", self.epoch)?,
            indices: &self.indices,
            labels: &self.labels,
            codes: self.codes.as_deref(),
        })
    }

    pub fn next(&self) -> Option<NextBatch<'_>> {
        self.next.as_ref().map(|(indices, codes)| NextBatch { indices, codes: codes.as_deref() })
    }
}
