//! The pair of ResNet-18s, one Adam over both, and the tensor-level steps of
//! docs/method.md. The dataset-level wrappers (views built by the image pipeline)
//! live in `steps.rs`; these take ready tensors so they can be tested without images.

use tch::{nn, Device, Kind, Tensor};

use super::adam::{Adam, AdamConfig};
use super::batches::{BufferPool, HostViews};
use super::partition::Partition;
use super::per_network::Pass;
use super::precision::{self, Precision, PrecisionRequest};
use super::{losses, validate};
use crate::model::ResNet18;
use crate::{ManError, Result};

#[derive(Debug, Clone)]
pub struct TrainerOptions {
    pub num_classes: i64,
    /// `auto`, `cpu`, `cuda` or `cuda:N`.
    pub device: String,
    /// libtorch intra-op threads; 0 leaves libtorch's default.
    pub threads: i32,
    /// Seeds the initial weights of both networks.
    pub seed: i64,
    pub adam: AdamConfig,
    /// bf16 autocast for the forward passes on CUDA, ignored on CPU: the
    /// older switch, kept; on CUDA it means `precision: Bf16`.
    pub mixed_precision: bool,
    /// What the forward passes compute in (`precision.rs`).
    pub precision: PrecisionRequest,
    pub backward: Backward,
}

/// How a step back-propagates. Both give bitwise the same weights
/// (crates/man-core/tests/train_backward.rs); they differ in memory and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backward {
    /// Each network's forward passes, then its backward pass, then the other
    /// network's (`per_network.rs`): one network's activations alive at a
    /// time, for one more forward pass of network 2 without graph on the
    /// ambiguous subset.
    #[default]
    PerNetwork,
    /// Both networks' forward passes, then one backward pass of the summed
    /// loss, as the reference code does.
    Once,
}

impl Backward {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "per-network" => Ok(Self::PerNetwork),
            "once" => Ok(Self::Once),
            other => Err(ManError::Config(format!("runtime.backward must be 'per-network' or 'once', got '{other}'"))),
        }
    }
}

static SEED_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Partition codes of the co-division step, as they arrive (one byte per sample).
pub const CLEAN: u8 = Partition::Clean.code();
pub const AMBIGUOUS: u8 = Partition::Ambiguous.code();
pub const NOISY: u8 = Partition::Noisy.code();

/// The weights of a co-division step's loss L = Lc + ω·La + γ·Ln.
#[cfg_attr(feature = "napi", napi_derive::napi(object, js_name = "BindingLossWeights"))]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWeights {
    /// λ: weight of the KL (mutual) term inside La, 1 − λ for its cross-entropy.
    pub lambda: f64,
    /// ω: weight of the ambiguous subset's loss La.
    pub omega: f64,
    /// γ: weight of the noisy subset's consistency loss Ln.
    pub gamma: f64,
    /// false: both views of a noisy sample receive gradient (the reference);
    /// true: only the strong view does, towards the weak view's prediction
    /// (docs/method.md, `man.consistencyGradient`).
    pub detach_weak: bool,
    /// false: a forward pass per subset, BatchNorm statistics from each
    /// subset (the reference); true: one pass per network over the whole
    /// batch and the noisy samples' strong views (`man.subsetPasses`).
    pub joint: bool,
    /// false: each subset's term is the mean over that subset, so a subset
    /// of one sample weighs as much as the whole clean subset (the
    /// reference); true: each term is scaled by its subset's share of the
    /// batch, so every sample weighs alike (`man.subsetWeighting: 'batch'`).
    pub batch_share: bool,
    /// None: the noisy subset learns by consistency, MSE between the softmax
    /// of its weak and strong views (the reference); a threshold τ: each
    /// network's strong view learns, by cross-entropy, the class of the two
    /// networks' mean softmax on the weak view where that reaches τ
    /// (`man.noisyLoss: 'pseudo-label'`, `losses::pseudo_label`).
    pub pseudo_threshold: Option<f64>,
}

impl LossWeights {
    /// The reference's step: gradient through both views, a pass per subset.
    pub const fn new(lambda: f64, omega: f64, gamma: f64) -> Self {
        LossWeights { lambda, omega, gamma, detach_weak: false, joint: false, batch_share: false, pseudo_threshold: None }
    }
}

/// What one training step did.
#[cfg_attr(feature = "napi", napi_derive::napi(object, js_name = "BindingStepResult"))]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepStats {
    /// The loss that was back-propagated.
    pub loss: f64,
    /// Warm-up / CE step: ½(CE1+CE2). Co-division step: Lc.
    pub loss_clean: f64,
    /// La (before ω); 0 for warm-up steps or an empty subset.
    pub loss_ambiguous: f64,
    /// Ln (before γ); 0 for warm-up steps or an empty subset.
    pub loss_noisy: f64,
    /// Subset sizes within the batch (all clean for a warm-up step).
    pub clean: u32,
    pub ambiguous: u32,
    pub noisy: u32,
    /// Samples of the batch whose label f1 / f2 predicted (on the training view).
    pub correct1: u32,
    pub correct2: u32,
    /// Milliseconds the step waited for its views (building them, or for the
    /// ones built ahead); 0 for tensor-level steps.
    pub data_ms: f64,
    /// Milliseconds of tensor work: forward, backward, Adam, reading the
    /// numbers back; 0 for tensor-level steps.
    pub compute_ms: f64,
}

/// The numbers a step reports, kept on the device until the step is done and
/// then read back in one transfer: one host synchronisation per step on CUDA.
#[derive(Default)]
pub(super) struct Pending {
    /// The total; already back-propagated when `back_propagated`.
    pub(super) loss: Option<Tensor>,
    pub(super) back_propagated: bool,
    clean: Option<Tensor>,
    ambiguous: Option<Tensor>,
    noisy: Option<Tensor>,
    correct1: Option<Tensor>,
    correct2: Option<Tensor>,
}

fn add_to(slot: &mut Option<Tensor>, t: Tensor) -> Result<()> {
    *slot = Some(match slot.take() {
        Some(s) => s.f_add(&t)?,
        None => t,
    });
    Ok(())
}

impl Pending {
    fn correct(&mut self, c: (Tensor, Tensor)) -> Result<()> {
        add_to(&mut self.correct1, c.0)?;
        add_to(&mut self.correct2, c.1)
    }

    /// Reads everything back; `stats` receives the values.
    fn read_into(self, stats: &mut StepStats, device: Device) -> Result<()> {
        let slots = [self.loss, self.clean, self.ambiguous, self.noisy, self.correct1, self.correct2];
        let mut parts = Vec::with_capacity(slots.len());
        for slot in &slots {
            parts.push(match slot {
                Some(t) => t.f_detach()?.f_to_kind(Kind::Double)?.f_reshape([1])?,
                None => Tensor::f_zeros([1], (Kind::Double, device))?,
            });
        }
        let all = Tensor::f_cat(&parts, 0)?.f_to_device(Device::Cpu)?;
        let v = Vec::<f64>::try_from(&all)?;
        stats.loss = v[0];
        stats.loss_clean = v[1];
        stats.loss_ambiguous = v[2];
        stats.loss_noisy = v[3];
        stats.correct1 = v[4] as u32;
        stats.correct2 = v[5] as u32;
        Ok(())
    }
}

pub struct Trainer {
    pub(crate) stores: [nn::VarStore; 2],
    nets: [ResNet18; 2],
    pub(crate) adam: Adam,
    device: Device,
    precision: Precision,
    backward: Backward,
    num_classes: i64,
    /// Host buffers of batch views, reused across steps (pinned on CUDA).
    pub(crate) buffers: std::sync::Arc<BufferPool>,
    /// The views of the batch announced as next, built during the last step.
    pub(crate) ahead: Option<HostViews>,
    pub(crate) data_parallel: Option<crate::dist::DataParallel>,
}

/// The spatial size of layer4's output for an input of `size` pixels: conv1
/// and the max pool halve it, then layer2..4 each halve it again (rounding up).
fn last_feature_size(size: i64) -> i64 {
    let mut s = (size + 2 * 3 - 7) / 2 + 1;
    for _ in 0..4 {
        s = (s + 2 - 3) / 2 + 1;
    }
    s
}

/// Train-mode BatchNorm needs more than one value per channel. With one
/// sample and a 1×1 last feature map (inputs of 32 px or less) it has one:
/// torch refuses, libtorch silently writes NaN into the running variance.
/// Such a batch or subset is not trained on.
fn batch_norm_cannot_train(xs: &Tensor) -> Result<bool> {
    let size = xs.size();
    if size.len() != 4 {
        return Err(ManError::Shape(format!("images must be N×3×H×W, got shape {size:?}")));
    }
    Ok(size[0] == 1 && last_feature_size(size[2]) * last_feature_size(size[3]) == 1)
}

fn sorted_variables(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// `net1.` / `net2.` in front of the torchvision name.
pub(crate) fn net_prefix(k: usize) -> String {
    format!("net{}.", k + 1)
}

/// Samples whose argmax is the label, as a device scalar.
fn count_correct(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    Ok(logits.f_argmax(1, false)?.f_eq_tensor(labels)?.f_sum(Kind::Int64)?)
}

/// What a subset's term is multiplied by in the total: 1 (each subset's
/// mean, the reference), or its share of the `batch` samples.
pub(super) fn subset_factor(w: LossWeights, subset: usize, batch: usize) -> f64 {
    if w.batch_share && batch > 0 {
        subset as f64 / batch as f64
    } else {
        1.0
    }
}

/// Lc = ½(CE(l1, y) + CE(l2, y)), added to the step's total times `factor` (see `subset_factor`).
pub(super) fn clean_terms(l1: &Tensor, l2: &Tensor, ys: &Tensor, factor: f64, pending: &mut Pending) -> Result<()> {
    let loss = losses::cross_entropy(l1, ys)?.f_add(&losses::cross_entropy(l2, ys)?)?.f_mul_scalar(0.5)?;
    pending.correct((count_correct(l1, ys)?, count_correct(l2, ys)?))?;
    pending.clean = Some(loss.shallow_clone());
    // Multiplying by exactly 1 would change nothing but add a kernel.
    let weighted = if factor == 1.0 { loss } else { loss.f_mul_scalar(factor)? };
    add_to(&mut pending.loss, weighted)
}

/// La (mutual learning), added to the total with weight ω (times `factor`).
pub(super) fn ambiguous_terms(l1: &Tensor, l2: &Tensor, ys: &Tensor, w: LossWeights, factor: f64, pending: &mut Pending) -> Result<()> {
    let la = losses::mutual(l1, l2, ys, w.lambda)?;
    pending.correct((count_correct(l1, ys)?, count_correct(l2, ys)?))?;
    add_to(&mut pending.loss, la.f_mul_scalar(w.omega * factor)?)?;
    pending.ambiguous = Some(la);
    Ok(())
}

/// Ln = ½(MSE(softmax w1, softmax s1) + MSE(softmax w2, softmax s2)), added
/// with weight γ (times `factor`); the weak logits are detached here when the
/// weights say so. With `pseudo_threshold`, Ln is `losses::pseudo_label` instead.
pub(super) fn noisy_terms(weak: [&Tensor; 2], strong: [&Tensor; 2], ys: &Tensor, w: LossWeights, factor: f64, pending: &mut Pending) -> Result<()> {
    let target = |t: &Tensor| if w.detach_weak { t.f_detach() } else { Ok(t.shallow_clone()) };
    let ln = match w.pseudo_threshold {
        Some(threshold) => losses::pseudo_label(weak, strong, threshold)?,
        None => losses::consistency(&target(weak[0])?, strong[0])?
            .f_add(&losses::consistency(&target(weak[1])?, strong[1])?)?
            .f_mul_scalar(0.5)?,
    };
    pending.correct((count_correct(weak[0], ys)?, count_correct(weak[1], ys)?))?;
    add_to(&mut pending.loss, ln.f_mul_scalar(w.gamma * factor)?)?;
    pending.noisy = Some(ln);
    Ok(())
}

impl Trainer {
    pub fn new(opts: &TrainerOptions) -> Result<Self> {
        if opts.num_classes < 2 {
            return Err(ManError::Config(format!("numClasses must be >= 2 (got {})", opts.num_classes)));
        }
        opts.adam.validate()?;
        crate::runtime::set_threads(opts.threads);
        let device = crate::runtime::parse_device(&opts.device)?;
        let stores = [nn::VarStore::new(device), nn::VarStore::new(device)];
        let nets = {
            // libtorch's generator is global: two trainers built at once must
            // not interleave their draws, or equal seeds give unequal weights.
            let _seeded = SEED_LOCK.lock().unwrap_or_else(|e| e.into_inner());
            tch::manual_seed(opts.seed);
            [
                ResNet18::new(&stores[0].root(), opts.num_classes),
                ResNet18::new(&stores[1].root(), opts.num_classes),
            ]
        };
        let mut params = Vec::new();
        for (k, vs) in stores.iter().enumerate() {
            for (name, t) in sorted_variables(vs) {
                if t.requires_grad() {
                    params.push((format!("{}{name}", net_prefix(k)), t));
                }
            }
        }
        let adam = Adam::new(params, opts.adam)?;
        Ok(Trainer {
            stores,
            nets,
            adam,
            device,
            precision: if opts.mixed_precision && device.is_cuda() {
                Precision::Bf16
            } else {
                precision::resolve(opts.precision, device, precision::cpu_bf16())
            },
            backward: opts.backward,
            num_classes: opts.num_classes,
            buffers: std::sync::Arc::new(BufferPool::new(device)),
            ahead: None,
            data_parallel: None,
        })
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// `cpu` or `cuda:N`.
    pub fn device_name(&self) -> String {
        match self.device {
            Device::Cuda(i) => format!("cuda:{i}"),
            Device::Mps => "mps".into(),
            Device::Vulkan => "vulkan".into(),
            _ => "cpu".into(),
        }
    }

    /// What the forward passes compute in, `auto` resolved.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    pub fn num_classes(&self) -> i64 {
        self.num_classes
    }

    pub fn lr(&self) -> f64 {
        self.adam.lr()
    }

    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        self.adam.set_lr(lr)
    }

    pub fn adam(&self) -> &Adam {
        &self.adam
    }

    /// Every variable of network `k` (0 or 1), BatchNorm running statistics
    /// included, sorted by torchvision name.
    pub fn variables(&self, k: usize) -> Vec<(String, Tensor)> {
        sorted_variables(&self.stores[k])
    }

    pub fn var_store(&self, k: usize) -> &nn::VarStore {
        &self.stores[k]
    }

    /// Float32 logits of network `k`; bf16 autocast inside when enabled.
    pub(super) fn logits(&self, k: usize, xs: &Tensor, train: bool) -> Result<Tensor> {
        self.logits_in(self.precision, k, xs, train)
    }

    /// Float32 logits of network `k`, computed in `precision`.
    fn logits_in(&self, precision: Precision, k: usize, xs: &Tensor, train: bool) -> Result<Tensor> {
        let bf16 = precision == Precision::Bf16;
        let out = super::autocast::bf16(bf16, self.device, || self.nets[k].forward(xs, train))?;
        Ok(out.f_to_kind(Kind::Float)?)
    }

    /// Float32 logits of network `k` (0 or 1), without gradient: what a
    /// reference implementation is compared against. As in PyTorch, a
    /// train-mode pass updates BatchNorm's running statistics.
    pub fn network_logits(&self, k: usize, xs: &Tensor, train: bool) -> Result<Tensor> {
        if k > 1 {
            return Err(ManError::Config(format!("network must be 0 or 1, got {k}")));
        }
        let size = xs.size();
        if size.len() != 4 || size[1] != 3 {
            return Err(ManError::Shape(format!("images must be N×3×H×W, got shape {size:?}")));
        }
        let _guard = tch::no_grad_guard();
        self.logits(k, &self.to_device(xs)?, train)
    }

    /// Images to the device; from pinned buffers the copy does not block the host.
    fn to_device(&self, xs: &Tensor) -> Result<Tensor> {
        if self.device.is_cuda() {
            Ok(xs.f_to_device_(self.device, Kind::Float, true, false)?)
        } else {
            Ok(xs.f_to_device(self.device)?)
        }
    }

    fn label_tensor(&self, labels: &[i32]) -> Result<Tensor> {
        let ys: Vec<i64> = labels.iter().map(|&y| i64::from(y)).collect();
        Ok(Tensor::f_from_slice(&ys)?.f_to_device(self.device)?)
    }

    fn check_images(&self, name: &str, xs: &Tensor, rows: usize) -> Result<()> {
        let size = xs.size();
        if size.len() != 4 || size[0] != rows as i64 || size[1] != 3 {
            return Err(ManError::Shape(format!(
                "{name} must be {rows}×3×H×W, got shape {size:?}"
            )));
        }
        Ok(())
    }

    /// Correct counts of both networks in eval mode, for samples that could not be trained on.
    fn correct_eval(&self, xs: &Tensor, ys: &Tensor) -> Result<(Tensor, Tensor)> {
        let _guard = tch::no_grad_guard();
        let c1 = count_correct(&self.logits(0, xs, false)?, ys)?;
        let c2 = count_correct(&self.logits(1, xs, false)?, ys)?;
        Ok((c1, c2))
    }

    /// ½(CE(f1(x), y) + CE(f2(x), y)): the warm-up loss and the clean
    /// subset's Lc, added to the step's total. Where BatchNorm cannot train
    /// on `xs` (one sample, 1×1 maps) only the eval-mode correct counts.
    fn add_clean_loss(&self, xs: &Tensor, ys: &Tensor, factor: f64, pending: &mut Pending) -> Result<()> {
        if batch_norm_cannot_train(xs)? {
            return pending.correct(self.correct_eval(xs, ys)?);
        }
        let l1 = self.logits(0, xs, true)?;
        let l2 = self.logits(1, xs, true)?;
        clean_terms(&l1, &l2, ys, factor, pending)
    }

    /// Back-propagates the total (if any term was trained), takes one Adam
    /// step, and reads the step's numbers back.
    fn apply(&mut self, pending: Pending, stats: &mut StepStats) -> Result<()> {
        if let (Some(loss), false) = (&pending.loss, pending.back_propagated) {
            loss.f_backward()?;
        }
        if crate::dist::sync_gradients(self.data_parallel.as_mut(), pending.loss.is_some())? {
            self.adam.step()?;
        }
        pending.read_into(stats, self.device)
    }

    /// A step without samples, for a data-parallel rank whose shard of the
    /// batch is empty: it still takes part in the gradient average and step.
    pub fn idle_step(&mut self) -> Result<StepStats> {
        self.adam.zero_grad()?;
        let mut stats = StepStats::default();
        self.apply(Pending::default(), &mut stats)?;
        Ok(stats)
    }

    /// L = ½(CE(f1(x), y) + CE(f2(x), y)); one Adam step. `xs` are weak views.
    pub fn warmup_step_tensors(&mut self, xs: &Tensor, labels: &[i32]) -> Result<StepStats> {
        validate::non_empty("labels", labels.len())?;
        validate::labels("labels", labels, self.num_classes)?;
        self.check_images("images", xs, labels.len())?;
        let xs = self.to_device(xs)?;
        let ys = self.label_tensor(labels)?;
        self.adam.zero_grad()?;
        let mut stats = StepStats { clean: labels.len() as u32, ..Default::default() };
        let mut pending = Pending::default();
        if self.backward == Backward::PerNetwork && !batch_norm_cannot_train(&xs)? {
            let pass = Pass { xs: &xs, grad: true, coupled: false };
            self.per_network(&[pass], &mut pending, |l, p| clean_terms(&l[0][0], &l[0][1], &ys, 1.0, p))?;
        } else {
            self.add_clean_loss(&xs, &ys, 1.0, &mut pending)?;
        }
        self.apply(pending, &mut stats)?;
        Ok(stats)
    }

    /// L = Lc + ω·La + γ·Ln, each subset with its own forward passes in train
    /// mode (clean, noisy, ambiguous: the reference's order), one backward, one Adam step. `weak` holds the weak views of the
    /// whole batch; `strong` the strong views of the noisy samples only, in
    /// batch order (None when there are none).
    pub fn codivision_step_tensors(
        &mut self,
        weak: &Tensor,
        strong: Option<&Tensor>,
        labels: &[i32],
        codes: &[u8],
        w: LossWeights,
    ) -> Result<StepStats> {
        validate::non_empty("labels", labels.len())?;
        validate::same_len("labels", labels.len(), "codes", codes.len())?;
        validate::labels("labels", labels, self.num_classes)?;
        validate::codes("codes", codes)?;
        self.check_images("weak views", weak, labels.len())?;
        let subset = |code: u8| -> Vec<i64> {
            codes.iter().enumerate().filter(|(_, &c)| c == code).map(|(i, _)| i as i64).collect()
        };
        let (clean, ambiguous, noisy) = (subset(CLEAN), subset(AMBIGUOUS), subset(NOISY));
        let strong = match (strong, noisy.len()) {
            (_, 0) => None,
            (Some(s), n) => {
                self.check_images("strong views", s, n)?;
                Some(self.to_device(s)?)
            }
            (None, n) => {
                return Err(ManError::Shape(format!("{n} noisy samples but no strong views were given")))
            }
        };
        let weak = self.to_device(weak)?;
        // Every integer of the step (labels, then each subset's positions) in
        // one copy, before any kernel is queued: a copy from pageable memory
        // waits for the device, so later copies would each stall the queue.
        let subsets = clean.iter().chain(&ambiguous).chain(&noisy).copied();
        let ints: Vec<i64> = labels.iter().map(|&y| i64::from(y)).chain(subsets).collect();
        let ints = Tensor::f_from_slice(&ints)?.f_to_device(self.device)?;
        let n = labels.len() as i64;
        let ys_all = ints.f_narrow(0, 0, n)?;
        let positions = |start: i64, len: usize| -> Result<(Tensor, Tensor)> {
            let idx = ints.f_narrow(0, n + start, len as i64)?;
            Ok((weak.f_index_select(0, &idx)?, ys_all.f_index_select(0, &idx)?))
        };
        let (at_ambiguous, at_noisy) = (clean.len() as i64, (clean.len() + ambiguous.len()) as i64);
        self.adam.zero_grad()?;
        let mut stats = StepStats {
            clean: clean.len() as u32,
            ambiguous: ambiguous.len() as u32,
            noisy: noisy.len() as u32,
            ..Default::default()
        };
        let mut pending = Pending::default();

        if w.joint {
            let sizes = (clean.len() as i64, ambiguous.len() as i64, noisy.len() as i64);
            self.joint_terms(&weak, strong.as_ref(), &ints, sizes, w, &mut pending)?;
            self.apply(pending, &mut stats)?;
            return Ok(stats);
        }

        // A one-sample subset BatchNorm cannot train on is only counted, in
        // eval mode, with the running statistics of the passes before it:
        // that order exists only in the single pass, so such a step takes it.
        let lone = [clean.len(), ambiguous.len(), noisy.len()].contains(&1) && batch_norm_cannot_train(&weak.f_narrow(0, 0, 1)?)?;
        if self.backward == Backward::PerNetwork && !lone {
            let subsets = [(0, clean.len()), (at_noisy, noisy.len()), (at_ambiguous, ambiguous.len())];
            let [c, nz, a] = subsets.map(|(start, len)| (len > 0).then(|| positions(start, len)).transpose());
            self.codivision_per_network(c?, nz?.zip(strong), a?, w, labels.len(), &mut pending)?;
            self.apply(pending, &mut stats)?;
            return Ok(stats);
        }

        if !clean.is_empty() {
            let (xs, ys) = positions(0, clean.len())?;
            self.add_clean_loss(&xs, &ys, subset_factor(w, clean.len(), labels.len()), &mut pending)?;
        }

        if let Some(xs_strong) = strong {
            let (xs_weak, ys) = positions(at_noisy, noisy.len())?;
            if batch_norm_cannot_train(&xs_weak)? {
                pending.correct(self.correct_eval(&xs_weak, &ys)?)?;
            } else {
                // Per network weak then strong, f1 before f2, as the reference:
                // BatchNorm's running statistics depend on the order.
                let weak_logits = |k: usize| -> Result<Tensor> {
                    if w.detach_weak {
                        // A fixed target needs no graph (BatchNorm still updates its statistics).
                        let _guard = tch::no_grad_guard();
                        self.logits(k, &xs_weak, true)
                    } else {
                        self.logits(k, &xs_weak, true)
                    }
                };
                let w1 = weak_logits(0)?;
                let s1 = self.logits(0, &xs_strong, true)?;
                let w2 = weak_logits(1)?;
                let s2 = self.logits(1, &xs_strong, true)?;
                noisy_terms([&w1, &w2], [&s1, &s2], &ys, w, subset_factor(w, noisy.len(), labels.len()), &mut pending)?;
            }
        }

        if !ambiguous.is_empty() {
            let (xs, ys) = positions(at_ambiguous, ambiguous.len())?;
            if batch_norm_cannot_train(&xs)? {
                pending.correct(self.correct_eval(&xs, &ys)?)?;
            } else {
                let l1 = self.logits(0, &xs, true)?;
                let l2 = self.logits(1, &xs, true)?;
                ambiguous_terms(&l1, &l2, &ys, w, subset_factor(w, ambiguous.len(), labels.len()), &mut pending)?;
            }
        }

        self.apply(pending, &mut stats)?;
        Ok(stats)
    }

    /// The co-division losses from one train-mode pass per network over the
    /// weak views of the whole batch followed by the noisy samples' strong
    /// views: BatchNorm normalises every subset with the same batch
    /// statistics. `ints` holds the labels, then the clean, ambiguous and
    /// noisy positions (`sizes`), as `codivision_step_tensors` lays them out.
    fn joint_terms(
        &self,
        weak: &Tensor,
        strong: Option<&Tensor>,
        ints: &Tensor,
        sizes: (i64, i64, i64),
        w: LossWeights,
        pending: &mut Pending,
    ) -> Result<()> {
        let n = weak.size()[0];
        let na = sizes.1;
        let xs = match strong {
            Some(s) => Tensor::f_cat(&[weak, s], 0)?,
            None => weak.shallow_clone(),
        };
        let ys_all = ints.f_narrow(0, 0, n)?;
        if batch_norm_cannot_train(&xs)? {
            return pending.correct(self.correct_eval(weak, &ys_all)?);
        }
        let terms = |logits: [&Tensor; 2], pending: &mut Pending| joint_loss(logits, n, ints, sizes, w, pending);
        if self.backward == Backward::PerNetwork {
            let pass = Pass { xs: &xs, grad: true, coupled: na > 0 };
            return self.per_network(&[pass], pending, |l, p| terms([&l[0][0], &l[0][1]], p));
        }
        let logits = [self.logits(0, &xs, true)?, self.logits(1, &xs, true)?];
        terms([&logits[0], &logits[1]], pending)
    }
}

/// The joint pass's losses from its logits (see `Trainer::joint_terms`).
fn joint_loss(logits: [&Tensor; 2], n: i64, ints: &Tensor, sizes: (i64, i64, i64), w: LossWeights, pending: &mut Pending) -> Result<()> {
        let (nc, na, nn) = sizes;
        let ys_all = ints.f_narrow(0, 0, n)?;
        let factor = |size: i64| subset_factor(w, size as usize, n as usize);
        let rows = |start: i64, len: i64| -> Result<([Tensor; 2], Tensor)> {
            let idx = ints.f_narrow(0, n + start, len)?;
            let pick = |k: usize| logits[k].f_index_select(0, &idx);
            Ok(([pick(0)?, pick(1)?], ys_all.f_index_select(0, &idx)?))
        };
        if nc > 0 {
            let ([l1, l2], ys) = rows(0, nc)?;
            clean_terms(&l1, &l2, &ys, factor(nc), pending)?;
        }
        if na > 0 {
            let ([l1, l2], ys) = rows(nc, na)?;
            ambiguous_terms(&l1, &l2, &ys, w, factor(na), pending)?;
        }
        if nn > 0 {
            let ([w1, w2], ys) = rows(nc + na, nn)?;
            let s1 = logits[0].f_narrow(0, n, nn)?;
            let s2 = logits[1].f_narrow(0, n, nn)?;
            noisy_terms([&w1, &w2], [&s1, &s2], &ys, w, factor(nn), pending)?;
        }
        Ok(())
}

impl Trainer {
    /// Eval mode, no gradient: argmax of each network and, if asked, the
    /// ensemble's softmax (softmax of the mean of the two networks' logits), N×C row-major.
    /// Always in float32, whatever the training steps compute in: a run's
    /// test accuracy and co-division are then what the saved model gives
    /// (`loadModel`, `eval`, ONNX), on any machine.
    pub fn predict_tensors(&self, xs: &Tensor, with_probs: bool) -> Result<Prediction> {
        let _guard = tch::no_grad_guard();
        let size = xs.size();
        if size.len() != 4 || size[1] != 3 {
            return Err(ManError::Shape(format!("images must be N×3×H×W, got shape {size:?}")));
        }
        let xs = self.to_device(xs)?;
        let l1 = self.logits_in(Precision::Fp32, 0, &xs, false)?;
        let l2 = self.logits_in(Precision::Fp32, 1, &xs, false)?;
        // Both argmaxes in one transfer: one host synchronisation per batch.
        let both = Tensor::f_stack(&[l1.f_argmax(1, false)?, l2.f_argmax(1, false)?], 0)?;
        let both = Vec::<i32>::try_from(&both.f_flatten(0, -1)?.f_to_kind(Kind::Int)?.f_to_device(Device::Cpu)?)?;
        let (pred1, pred2) = both.split_at(both.len() / 2);
        let probs = if with_probs {
            let p = l1.f_add(&l2)?.f_mul_scalar(0.5)?.f_softmax(1, None)?;
            let p = p.f_flatten(0, -1)?.f_to_device(Device::Cpu)?;
            Some(Vec::<f32>::try_from(&p)?)
        } else {
            None
        };
        Ok(Prediction { pred1: pred1.to_vec(), pred2: pred2.to_vec(), probs })
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prediction {
    pub pred1: Vec<i32>,
    pub pred2: Vec<i32>,
    pub probs: Option<Vec<f32>>,
}
