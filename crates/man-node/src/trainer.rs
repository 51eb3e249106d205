//! The `Trainer` class. The man-core trainer sits behind Arc<Mutex<..>> so
//! every step runs on the libuv pool; JavaScript awaits one call at a time,
//! and a second concurrent call simply waits for the lock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::{AsyncTask, Float32Array, Int32Array, Uint32Array, Uint8Array};
use napi_derive::napi;

use man_core::train::{checkpoint, AdamConfig, LossWeights, NextBatch, StepStats, Trainer, TrainerOptions};
use man_core::Result;

use crate::args;
use crate::dataset::JsDataset;
use crate::task::{run_sync, Compute};

#[napi(object)]
pub struct BindingTrainerOptions {
    pub num_classes: f64,
    pub device: String,
    pub threads: f64,
    pub seed: f64,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub mixed_precision: bool,
}

#[napi(object)]
pub struct BindingStepResult {
    pub loss: f64,
    pub loss_clean: f64,
    pub loss_ambiguous: f64,
    pub loss_noisy: f64,
    pub clean: u32,
    pub ambiguous: u32,
    pub noisy: u32,
    pub correct1: u32,
    pub correct2: u32,
    pub data_ms: f64,
    pub compute_ms: f64,
}

impl From<StepStats> for BindingStepResult {
    fn from(s: StepStats) -> Self {
        BindingStepResult {
            loss: s.loss,
            loss_clean: s.loss_clean,
            loss_ambiguous: s.loss_ambiguous,
            loss_noisy: s.loss_noisy,
            clean: s.clean,
            ambiguous: s.ambiguous,
            noisy: s.noisy,
            correct1: s.correct1,
            correct2: s.correct2,
            data_ms: s.data_ms,
            compute_ms: s.compute_ms,
        }
    }
}

#[napi(object)]
pub struct BindingPrediction {
    pub pred1: Int32Array,
    pub pred2: Int32Array,
    #[napi(ts_type = "Float32Array | null")]
    pub probs: Option<Float32Array>,
}

#[napi(object)]
pub struct BindingWeightsReport {
    pub loaded: Vec<String>,
    pub skipped: Vec<String>,
    pub missing: Vec<String>,
}

struct Shared {
    trainer: Mutex<Trainer>,
    /// The learning rate `setLr` asked for, as f64 bits: applied by the next
    /// task, so `setLr` never waits for a running step.
    lr: AtomicU64,
}

impl Shared {
    /// The trainer, with the latest requested learning rate applied.
    fn lock(&self) -> Result<MutexGuard<'_, Trainer>> {
        // A panic inside a step was already reported as ERR_MAN_PANIC; the
        // trainer stays usable (its state is whatever the step left).
        let mut t = self.trainer.lock().unwrap_or_else(|e| e.into_inner());
        t.set_lr(f64::from_bits(self.lr.load(Ordering::SeqCst)))?;
        Ok(t)
    }
}

fn trainer_options(o: &BindingTrainerOptions) -> Result<TrainerOptions> {
    Ok(TrainerOptions {
        num_classes: args::u32_arg("numClasses", o.num_classes)?.into(),
        device: o.device.clone(),
        threads: args::uint("threads", o.threads, i32::MAX as u64)? as i32,
        seed: args::uint("seed", o.seed, (1u64 << 53) - 1)? as i64,
        adam: AdamConfig {
            lr: args::finite("lr", o.lr)?,
            beta1: args::finite("beta1", o.beta1)?,
            beta2: args::finite("beta2", o.beta2)?,
            eps: args::finite("eps", o.eps)?,
            weight_decay: args::finite("weightDecay", o.weight_decay)?,
        },
        mixed_precision: o.mixed_precision,
    })
}

#[napi(js_name = "Trainer")]
pub struct JsTrainer {
    shared: Arc<Shared>,
    device: String,
}

impl JsTrainer {
    fn task<T, F>(&self, job: F) -> AsyncTask<Compute<T>>
    where
        T: Send + 'static,
        F: FnOnce(&mut Trainer) -> Result<T> + Send + 'static,
        Compute<T>: napi::Task,
    {
        let shared = Arc::clone(&self.shared);
        AsyncTask::new(Compute::new(move || {
            let mut guard = shared.lock()?;
            job(&mut guard)
        }))
    }
}

#[napi]
impl JsTrainer {
    #[napi(factory)]
    pub fn create(options: BindingTrainerOptions) -> napi::Result<Self> {
        run_sync(|| {
            let trainer = Trainer::new(&trainer_options(&options)?)?;
            let device = trainer.device_name();
            let lr = AtomicU64::new(trainer.lr().to_bits());
            Ok(JsTrainer { shared: Arc::new(Shared { trainer: Mutex::new(trainer), lr }), device })
        })
    }

    #[napi(getter)]
    pub fn device(&self) -> String {
        self.device.clone()
    }

    #[napi]
    pub fn set_lr(&self, lr: f64) -> napi::Result<()> {
        run_sync(|| {
            if !(lr.is_finite() && lr >= 0.0) {
                return Err(man_core::ManError::Config(format!("invalid learning rate: {lr}")));
            }
            self.shared.lr.store(lr.to_bits(), Ordering::SeqCst);
            Ok(())
        })
    }

    #[napi(ts_return_type = "Promise<BindingWeightsReport>")]
    pub fn load_pretrained(&self, path: String) -> AsyncTask<Compute<BindingWeightsReport>> {
        self.task(move |t| {
            let r = t.load_pretrained(&PathBuf::from(path))?;
            Ok(BindingWeightsReport { loaded: r.loaded, skipped: r.skipped, missing: r.missing })
        })
    }

    #[napi(ts_return_type = "Promise<BindingStepResult>")]
    pub fn warmup_step(
        &self,
        dataset: &JsDataset,
        indices: Uint32Array,
        labels: Int32Array,
        epoch: f64,
        next_indices: Option<Uint32Array>,
    ) -> AsyncTask<Compute<BindingStepResult>> {
        let ds = Arc::clone(&dataset.inner);
        let (indices, labels) = (indices.to_vec(), labels.to_vec());
        let next = next_indices.map(|n| n.to_vec());
        self.task(move |t| {
            let epoch = args::u32_arg("epoch", epoch)?;
            let next = next.as_deref().map(|indices| NextBatch { indices, codes: None });
            Ok(t.warmup_step_ahead(&ds, &indices, &labels, epoch, next)?.into())
        })
    }

    #[allow(clippy::too_many_arguments)]
    #[napi(ts_return_type = "Promise<BindingStepResult>")]
    pub fn co_division_step(
        &self,
        dataset: &JsDataset,
        indices: Uint32Array,
        labels: Int32Array,
        codes: Uint8Array,
        epoch: f64,
        lambda: f64,
        omega: f64,
        gamma: f64,
        next_indices: Option<Uint32Array>,
        next_codes: Option<Uint8Array>,
        detach_weak: Option<bool>,
        joint: Option<bool>,
    ) -> AsyncTask<Compute<BindingStepResult>> {
        let ds = Arc::clone(&dataset.inner);
        let (indices, labels, codes) = (indices.to_vec(), labels.to_vec(), codes.to_vec());
        let next = next_indices.map(|n| n.to_vec());
        let next_codes = next_codes.map(|c| c.to_vec());
        self.task(move |t| {
            let epoch = args::u32_arg("epoch", epoch)?;
            let w = LossWeights {
                lambda: args::finite("lambda", lambda)?,
                omega: args::finite("omega", omega)?,
                gamma: args::finite("gamma", gamma)?,
                detach_weak: detach_weak.unwrap_or(false),
                joint: joint.unwrap_or(false),
            };
            let next = next.as_deref().map(|indices| NextBatch { indices, codes: next_codes.as_deref() });
            Ok(t.codivision_step_ahead(&ds, &indices, &labels, &codes, epoch, w, next)?.into())
        })
    }

    #[napi(ts_return_type = "Promise<BindingPrediction>")]
    pub fn predict(
        &self,
        dataset: &JsDataset,
        indices: Uint32Array,
        #[napi(ts_arg_type = "'test' | 'weak' | 'strong'")] view: String,
        epoch: f64,
        batch_size: f64,
        with_probs: bool,
    ) -> AsyncTask<Compute<BindingPrediction>> {
        let ds = Arc::clone(&dataset.inner);
        let indices = indices.to_vec();
        self.task(move |t| {
            let view = args::view(&view)?;
            let epoch = args::u32_arg("epoch", epoch)?;
            let batch_size = args::u32_arg("batchSize", batch_size)? as usize;
            let p = t.predict(&ds, &indices, view, epoch, batch_size, with_probs)?;
            Ok(BindingPrediction {
                pred1: Int32Array::new(p.pred1),
                pred2: Int32Array::new(p.pred2),
                probs: p.probs.map(Float32Array::new),
            })
        })
    }

    /// Test-only: network `network`'s logits on the views `Dataset.views`
    /// returns, so a reference implementation can be compared exactly.
    #[allow(clippy::too_many_arguments)]
    #[napi(ts_return_type = "Promise<Float32Array>")]
    pub fn debug_logits(
        &self,
        dataset: &JsDataset,
        indices: Uint32Array,
        #[napi(ts_arg_type = "'test' | 'weak' | 'strong'")] view: String,
        epoch: f64,
        network: f64,
        train: bool,
    ) -> AsyncTask<Compute<Float32Array>> {
        let ds = Arc::clone(&dataset.inner);
        let indices = indices.to_vec();
        self.task(move |t| {
            let view = args::view(&view)?;
            let epoch = args::u32_arg("epoch", epoch)?;
            let network = args::uint("network", network, 1)? as usize;
            Ok(Float32Array::new(t.dataset_logits(&ds, &indices, view, epoch, network, train)?))
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn save(&self, path: String, metadata: String) -> AsyncTask<Compute<()>> {
        self.task(move |t| checkpoint::save(t, &PathBuf::from(path), &metadata))
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn load(&self, path: String) -> AsyncTask<Compute<String>> {
        let shared = Arc::clone(&self.shared);
        AsyncTask::new(Compute::new(move || {
            let mut t = shared.lock()?;
            let metadata = checkpoint::load(&mut t, &PathBuf::from(path))?;
            shared.lr.store(t.lr().to_bits(), Ordering::SeqCst);
            Ok(metadata)
        }))
    }
}
