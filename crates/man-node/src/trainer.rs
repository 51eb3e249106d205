//! The `Trainer` class. The man-core trainer sits behind Arc<Mutex<..>> so
//! every step runs on the libuv pool; JavaScript awaits one call at a time,
//! and a second concurrent call simply waits for the lock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::{AsyncTask, Float32Array, Int32Array, Uint32Array};
use napi_derive::napi;

use man_core::train::{checkpoint, AdamConfig, Backward, LossWeights, StepStats, Trainer, TrainerOptions};
use man_core::runtime::Allocator;
use man_core::train::precision::PrecisionRequest;
use man_core::Result;

use crate::args;
use crate::dataset::JsDataset;
use crate::step_input::{BindingBatch, BindingNextBatch, StepInput};
use crate::task::{run_sync, Compute};

/// How `Trainer.create` builds the two networks and their optimiser.
#[napi(object)]
pub struct BindingTrainerOptions {
    /// Classes of the classifier head (at least 2).
    pub num_classes: f64,
    /// 'auto' | 'cpu' | 'cuda' | 'cuda:N'
    pub device: String,
    /// libtorch intra-op threads; 0 = libtorch's default.
    pub threads: f64,
    /// Seeds the initial weights (and any other randomness of the trainer).
    pub seed: f64,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Coupled (torch.optim.Adam) weight decay.
    pub weight_decay: f64,
    /// bf16 autocast on CUDA; ignored on CPU.
    pub mixed_precision: bool,
    /// 'per-network' (default: one network's activations alive at a time) | 'once' (the reference's single backward pass); the same weights either way.
    pub backward: Option<String>,
    /// 'auto' (bf16 autocast on a CPU with AMX or AVX-512-BF16, fp32 elsewhere) | 'fp32' (when absent: exact, for parity) | 'bf16'. Master weights and Adam's state stay fp32.
    pub precision: Option<String>,
    /// 'lean' (the addon's setting at load: every block of 1 MiB or more mapped and returned when freed, the smallest peak) | 'fast' (blocks up to 32 MiB kept for reuse: fewer page faults, a higher peak). Process-wide; absent leaves it as it is; MALLOC_MMAP_THRESHOLD_ in the environment wins.
    pub allocator: Option<String>,
}

/// Both networks' predictions for the requested samples.
#[napi(object, use_nullable = true)]
pub struct BindingPrediction {
    /// argmax of f1 per requested sample, in the order of `indices`.
    pub pred1: Int32Array,
    /// argmax of f2, likewise.
    pub pred2: Int32Array,
    /// Ensemble softmax (mean of the two networks' logits, then softmax), N×C row-major; null unless asked.
    pub probs: Option<Float32Array>,
}

/// What `loadPretrained` took from a weights file. A backbone tensor the
/// file lacks or shapes otherwise is never in a report: loadPretrained fails
/// naming it.
#[napi(object)]
pub struct BindingWeightsReport {
    /// Tensors of the file copied into both networks, in file order.
    pub loaded: Vec<String>,
    /// Tensors of the file not used (head of another shape, unknown names, BatchNorm counters).
    pub skipped: Vec<String>,
    /// Head variables (`fc.*`) the file gave no usable value for; they keep their initialisation.
    pub head_initialised: Vec<String>,
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
        backward: o.backward.as_deref().map(Backward::parse).transpose()?.unwrap_or_default(),
        precision: o.precision.as_deref().map(PrecisionRequest::parse).transpose()?.unwrap_or(PrecisionRequest::Fp32),
    })
}

/// The two ResNet-18s of MAN, their Adam optimiser and the steps of docs/method.md.
#[napi(js_name = "Trainer")]
pub struct JsTrainer {
    shared: Arc<Shared>,
    device: String,
}

impl JsTrainer {
    pub(crate) fn task<T, F>(&self, job: F) -> AsyncTask<Compute<T>>
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

fn checked_weights(w: LossWeights) -> Result<LossWeights> {
    Ok(LossWeights {
        lambda: args::finite("lambda", w.lambda)?,
        omega: args::finite("omega", w.omega)?,
        gamma: args::finite("gamma", w.gamma)?,
        pseudo_threshold: w.pseudo_threshold.map(|t| args::probability("pseudoThreshold", t)).transpose()?,
        ..w
    })
}

#[napi]
impl JsTrainer {
    /// Two freshly initialised networks on the chosen device.
    #[napi(factory)]
    pub fn create(options: BindingTrainerOptions) -> napi::Result<Self> {
        run_sync(|| {
            let allocator = options.allocator.as_deref().map(Allocator::parse).transpose()?;
            let trainer = Trainer::new(&trainer_options(&options)?)?;
            if let Some(mode) = allocator {
                man_core::runtime::set_allocator(mode);
            }
            let device = trainer.device_name();
            let lr = AtomicU64::new(trainer.lr().to_bits());
            Ok(JsTrainer { shared: Arc::new(Shared { trainer: Mutex::new(trainer), lr }), device })
        })
    }

    /// The device in use, e.g. "cpu" or "cuda:0".
    #[napi(getter)]
    pub fn device(&self) -> String {
        self.device.clone()
    }

    /// The learning rate of the next step (applied when it starts; never waits for a running one).
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

    /// Loads one backbone into both networks (safetensors, torch.save zip or legacy pickle).
    #[napi(ts_return_type = "Promise<BindingWeightsReport>")]
    pub fn load_pretrained(&self, path: String) -> AsyncTask<Compute<BindingWeightsReport>> {
        self.task(move |t| {
            let r = t.load_pretrained(&PathBuf::from(path))?;
            Ok(BindingWeightsReport { loaded: r.loaded, skipped: r.skipped, head_initialised: r.head_initialised })
        })
    }

    /// L = ½(CE(f1(x), y) + CE(f2(x), y)) on weak views; one Adam step. Also
    /// the `ce` baseline's step. `next`, when given, is prepared meanwhile.
    #[napi(ts_return_type = "Promise<BindingStepResult>")]
    pub fn warmup_step(
        &self,
        dataset: &JsDataset,
        batch: BindingBatch,
        next: Option<BindingNextBatch>,
    ) -> AsyncTask<Compute<StepStats>> {
        let ds = Arc::clone(&dataset.inner);
        let input = StepInput::new(batch, next);
        self.task(move |t| t.warmup_step(&ds, input.batch()?, input.next()))
    }

    /// L = Lc + ω·La + γ·Ln with per-subset forward passes; one Adam step.
    /// `batch.codes` holds one `Partition` per sample; `next`, when given, is
    /// prepared meanwhile.
    #[napi(ts_return_type = "Promise<BindingStepResult>")]
    pub fn co_division_step(
        &self,
        dataset: &JsDataset,
        batch: BindingBatch,
        // Declared in man-core, whose JavaScript name this crate cannot see.
        #[napi(ts_arg_type = "BindingLossWeights")] weights: LossWeights,
        next: Option<BindingNextBatch>,
    ) -> AsyncTask<Compute<StepStats>> {
        let ds = Arc::clone(&dataset.inner);
        let input = StepInput::new(batch, next);
        self.task(move |t| t.codivision_step(&ds, input.batch()?, checked_weights(weights)?, input.next()))
    }

    /// Eval mode, no gradient, in batches of `batchSize`, in the order of `indices`.
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

    /// Test-only: row-major N×C float32 logits of network `network` (0 = f1,
    /// 1 = f2) on the views `Dataset.views` returns, in train or eval mode,
    /// without gradient. A train-mode pass updates BatchNorm running
    /// statistics. For parity checks against a reference implementation.
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

    /// Both networks, Adam state and `metadata` (a JSON string), as safetensors, atomically.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn save(&self, path: String, metadata: String) -> AsyncTask<Compute<()>> {
        self.task(move |t| checkpoint::save(t, &PathBuf::from(path), &metadata))
    }

    /// Restores what `save` wrote; resolves to its metadata JSON string.
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
