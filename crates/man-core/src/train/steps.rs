//! Dataset-level steps: build the views with the image pipeline, then run the
//! tensor-level steps of `trainer.rs`. Training batches use salt 0; the
//! random views of predictions use salt 1, so co-division never sees the
//! exact draw that was trained on.

use tch::{Device, Tensor};

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

impl Trainer {
    pub fn warmup_step(&mut self, ds: &Dataset, indices: &[u32], labels: &[i32], epoch: u32) -> Result<StepStats> {
        validate::non_empty("indices", indices.len())?;
        validate::same_len("indices", indices.len(), "labels", labels.len())?;
        validate::indices("indices", indices, ds.len())?;
        validate::labels("labels", labels, self.num_classes())?;
        let xs = view_tensor(ds, indices, View::Weak, epoch, TRAIN_SALT)?;
        self.warmup_step_tensors(&xs, labels)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn codivision_step(
        &mut self,
        ds: &Dataset,
        indices: &[u32],
        labels: &[i32],
        codes: &[u8],
        epoch: u32,
        w: LossWeights,
    ) -> Result<StepStats> {
        validate::non_empty("indices", indices.len())?;
        validate::same_len("indices", indices.len(), "labels", labels.len())?;
        validate::same_len("indices", indices.len(), "codes", codes.len())?;
        validate::indices("indices", indices, ds.len())?;
        validate::labels("labels", labels, self.num_classes())?;
        validate::codes("codes", codes)?;
        let weak = view_tensor(ds, indices, View::Weak, epoch, TRAIN_SALT)?;
        let noisy: Vec<u32> =
            indices.iter().zip(codes).filter(|(_, &c)| c == NOISY).map(|(&i, _)| i).collect();
        let strong = if noisy.is_empty() {
            None
        } else {
            Some(view_tensor(ds, &noisy, View::Strong, epoch, TRAIN_SALT)?)
        };
        self.codivision_step_tensors(&weak, strong.as_ref(), labels, codes, w)
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

    /// Predictions for `indices` in batches of `batch_size`, in the order of `indices`.
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
        for chunk in indices.chunks(batch_size) {
            let xs = view_tensor(ds, chunk, view, epoch, salt)?;
            let p = self.predict_tensors(&xs, with_probs)?;
            out.pred1.extend(p.pred1);
            out.pred2.extend(p.pred2);
            if let (Some(all), Some(part)) = (out.probs.as_mut(), p.probs) {
                all.extend(part);
            }
        }
        Ok(out)
    }
}
