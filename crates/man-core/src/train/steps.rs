//! Dataset-level steps: build the views with the image pipeline, then run the
//! tensor-level steps of `trainer.rs`. Training batches use salt 0; the
//! random views of predictions use salt 1, so co-division never sees the
//! exact draw that was trained on.

use tch::{Device, Tensor};

use super::batches::{with_views, BatchKey, HostViews, StepTiming};
use super::trainer::{LossWeights, Prediction, StepStats, Trainer, NOISY};
use super::validate;
use crate::data::{Dataset, View};
use crate::{ManError, Result};

const TRAIN_SALT: u64 = 0;
const PREDICT_SALT: u64 = 1;

/// NCHW float32 views of `indices`, on the CPU.
pub fn view_tensor(ds: &Dataset, indices: &[u32], view: View, epoch: u32, salt: u64) -> Result<Tensor> {
    let s = i64::from(ds.image_size());
    let n = indices.len() as i64;
    let pixels = ds.batch(indices, view, epoch, salt)?;
    if pixels.len() as i64 != n * 3 * s * s {
        return Err(ManError::Shape(format!(
            "image pipeline returned {} values for {n} samples of 3×{s}×{s}",
            pixels.len()
        )));
    }
    Ok(Tensor::f_from_slice(&pixels)?.f_view([n, 3, s, s])?.f_to_device(Device::Cpu)?)
}

/// One training batch: samples of a dataset, the epoch whose views they
/// train on, their given labels and, for a co-division step, their codes.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    pub epoch: u32,
    pub indices: &'a [u32],
    pub labels: &'a [i32],
    /// One `Partition` code per sample: required by a co-division step, ignored by a warm-up step.
    pub codes: Option<&'a [u8]>,
}

/// The batch to prepare while the current one trains: its indices and, for a
/// co-division step, its partition codes (whose noisy samples get strong views).
#[derive(Debug, Clone, Copy)]
pub struct NextBatch<'a> {
    pub indices: &'a [u32],
    pub codes: Option<&'a [u8]>,
}

fn noisy_of(indices: &[u32], codes: &[u8]) -> Vec<u32> {
    indices.iter().zip(codes).filter(|(_, &c)| c == NOISY).map(|(&i, _)| i).collect()
}

fn train_key(ds: &Dataset, epoch: u32, indices: &[u32], codes: Option<&[u8]>) -> BatchKey {
    BatchKey {
        dataset: ds.id(),
        view: View::Weak,
        epoch,
        salt: TRAIN_SALT,
        indices: indices.to_vec(),
        strong: codes.map(|c| noisy_of(indices, c)),
    }
}

/// The next batch's key, when it is a valid request (an invalid one is simply not prepared).
fn next_key(ds: &Dataset, epoch: u32, next: Option<NextBatch<'_>>) -> Option<BatchKey> {
    let n = next?;
    let valid = !n.indices.is_empty()
        && n.codes.is_none_or(|c| c.len() == n.indices.len())
        && n.indices.iter().all(|&i| (i as usize) < ds.len());
    valid.then(|| train_key(ds, epoch, n.indices, n.codes))
}

impl Trainer {
    /// Runs `compute` on the views of `key`, preparing `next` meanwhile.
    fn step_on_views(
        &mut self,
        ds: &Dataset,
        key: BatchKey,
        next: Option<BatchKey>,
        compute: impl FnOnce(&mut Trainer, &HostViews) -> Result<StepStats>,
    ) -> Result<StepStats> {
        let pool = std::sync::Arc::clone(&self.buffers);
        let ahead = self.ahead.take();
        let (result, prepared, timing) = with_views(ds, &pool, ahead, key, next, |views| compute(self, views));
        self.ahead = prepared;
        let StepTiming { data_ms, compute_ms } = timing;
        result.map(|stats| StepStats { data_ms, compute_ms, ..stats })
    }

    /// L = ½(CE(f1(x), y) + CE(f2(x), y)) on weak views; one Adam step.
    /// Builds the views of `next`, when given, while this step trains.
    pub fn warmup_step(&mut self, ds: &Dataset, batch: Batch<'_>, next: Option<NextBatch<'_>>) -> Result<StepStats> {
        let Batch { epoch, indices, labels, .. } = batch;
        validate::non_empty("indices", indices.len())?;
        validate::same_len("indices", indices.len(), "labels", labels.len())?;
        validate::indices("indices", indices, ds.len())?;
        validate::labels("labels", labels, self.num_classes())?;
        let key = train_key(ds, epoch, indices, None);
        let next = next_key(ds, epoch, next);
        self.step_on_views(ds, key, next, |t, views| t.warmup_step_tensors(&views.first()?, labels))
    }

    /// L = Lc + ω·La + γ·Ln (see `codivision_step_tensors`); one Adam step.
    /// Builds the views of `next`, when given, while this step trains.
    pub fn codivision_step(
        &mut self,
        ds: &Dataset,
        batch: Batch<'_>,
        w: LossWeights,
        next: Option<NextBatch<'_>>,
    ) -> Result<StepStats> {
        let Batch { epoch, indices, labels, codes } = batch;
        let codes = codes.ok_or_else(|| {
            ManError::Shape("codes: a co-division step needs one partition code per sample".into())
        })?;
        validate::non_empty("indices", indices.len())?;
        validate::same_len("indices", indices.len(), "labels", labels.len())?;
        validate::same_len("indices", indices.len(), "codes", codes.len())?;
        validate::indices("indices", indices, ds.len())?;
        validate::labels("labels", labels, self.num_classes())?;
        validate::codes("codes", codes)?;
        let key = train_key(ds, epoch, indices, Some(codes));
        let next = next_key(ds, epoch, next);
        self.step_on_views(ds, key, next, |t, views| {
            t.codivision_step_tensors(&views.first()?, views.strong()?.as_ref(), labels, codes, w)
        })
    }

    /// Row-major N×C logits of network `k` on the views `Dataset::batch`
    /// gives with salt 0 (the training draw), for parity checks.
    pub fn dataset_logits(
        &self,
        ds: &Dataset,
        indices: &[u32],
        view: View,
        epoch: u32,
        k: usize,
        train: bool,
    ) -> Result<Vec<f32>> {
        validate::non_empty("indices", indices.len())?;
        validate::indices("indices", indices, ds.len())?;
        let xs = view_tensor(ds, indices, view, epoch, TRAIN_SALT)?;
        let out = self.network_logits(k, &xs, train)?.f_flatten(0, -1)?.f_to_device(Device::Cpu)?;
        Ok(Vec::<f32>::try_from(&out)?)
    }

    /// Predictions for `indices` in batches of `batch_size`, in the order of
    /// `indices`; each batch's views are built while the previous one runs.
    pub fn predict(
        &self,
        ds: &Dataset,
        indices: &[u32],
        view: View,
        epoch: u32,
        batch_size: usize,
        with_probs: bool,
    ) -> Result<Prediction> {
        if batch_size == 0 {
            return Err(ManError::Shape("batchSize must be >= 1".into()));
        }
        validate::indices("indices", indices, ds.len())?;
        let salt = if view == View::Test { 0 } else { PREDICT_SALT };
        let mut out = Prediction {
            probs: with_probs.then(Vec::new),
            ..Default::default()
        };
        let key = |chunk: &[u32]| BatchKey {
            dataset: ds.id(),
            view,
            epoch,
            salt,
            indices: chunk.to_vec(),
            strong: None,
        };
        let chunks: Vec<&[u32]> = indices.chunks(batch_size).collect();
        let mut ahead: Option<HostViews> = None;
        for (k, chunk) in chunks.iter().enumerate() {
            let next = chunks.get(k + 1).map(|c| key(c));
            let predict = |v: &HostViews| self.predict_tensors(&v.first()?, with_probs);
            let (p, prepared, _) = with_views(ds, &self.buffers, ahead.take(), key(chunk), next, predict);
            ahead = prepared;
            let p = p?;
            out.pred1.extend(p.pred1);
            out.pred2.extend(p.pred2);
            if let (Some(all), Some(part)) = (out.probs.as_mut(), p.probs) {
                all.extend(part);
            }
        }
        if let Some(v) = ahead {
            v.release(&self.buffers);
        }
        Ok(out)
    }
}
