//! Adam with torch.optim.Adam semantics (not AdamW): weight decay is added to
//! the gradient, moments are bias-corrected, and the update is
//! p -= lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + eps), in the same order of
//! operations as torch's single-tensor implementation.

use tch::Tensor;

use crate::{ManError, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    /// docs/method.md: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-4.
    fn default() -> Self {
        AdamConfig { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 1e-4 }
    }
}

impl AdamConfig {
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, v: f64| ManError::Config(format!("invalid Adam {name}: {v}"));
        if !(self.lr.is_finite() && self.lr >= 0.0) {
            return Err(bad("lr", self.lr));
        }
        if !(0.0..1.0).contains(&self.beta1) {
            return Err(bad("beta1", self.beta1));
        }
        if !(0.0..1.0).contains(&self.beta2) {
            return Err(bad("beta2", self.beta2));
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return Err(bad("eps", self.eps));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(bad("weightDecay", self.weight_decay));
        }
        Ok(())
    }
}

/// One named parameter with its two moment estimates.
pub struct AdamParam {
    pub name: String,
    pub param: Tensor,
    pub exp_avg: Tensor,
    pub exp_avg_sq: Tensor,
}

pub struct Adam {
    config: AdamConfig,
    params: Vec<AdamParam>,
    /// Steps taken. torch keeps one per parameter; every parameter of the
    /// pair gets a gradient at every step here, so one counter is the same.
    step: i64,
    /// Reused buffers for the step's two products (see `step`).
    scratch: Option<(Tensor, Tensor)>,
}

impl Adam {
    /// Moments start at zero (torch creates them lazily with the same value).
    pub fn new(params: Vec<(String, Tensor)>, config: AdamConfig) -> Result<Self> {
        config.validate()?;
        let params = params
            .into_iter()
            .map(|(name, param)| {
                let exp_avg = param.f_zeros_like()?;
                let exp_avg_sq = param.f_zeros_like()?;
                Ok(AdamParam { name, param, exp_avg, exp_avg_sq })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Adam { config, params, step: 0, scratch: None })
    }

    pub fn config(&self) -> AdamConfig {
        self.config
    }

    pub fn lr(&self) -> f64 {
        self.config.lr
    }

    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(ManError::Config(format!("invalid learning rate: {lr}")));
        }
        self.config.lr = lr;
        Ok(())
    }

    pub fn step_count(&self) -> i64 {
        self.step
    }

    pub fn set_step_count(&mut self, step: i64) -> Result<()> {
        if step < 0 {
            return Err(ManError::Config(format!("invalid Adam step count: {step}")));
        }
        self.step = step;
        Ok(())
    }

    pub fn params(&self) -> &[AdamParam] {
        &self.params
    }

    /// One update of every parameter that has a gradient (torch skips the others too).
    ///
    /// The same arithmetic as before in the same order, but without a
    /// temporary per parameter: the weight decay is added to the gradient in
    /// place (the next `zero_grad` clears it anyway) and the two products
    /// that torch folds into `value=` go through two scratch buffers reused
    /// across parameters and steps. Fresh temporaries cost more than the
    /// arithmetic on a CPU: the allocator hands out new pages, which the
    /// kernel faults in and zeroes (docs/performance.md, "Adam", measures it).
    pub fn step(&mut self) -> Result<()> {
        let _guard = tch::no_grad_guard();
        self.step += 1;
        let AdamConfig { lr, beta1, beta2, eps, weight_decay } = self.config;
        let t = self.step as f64;
        let step_size = lr / (1.0 - beta1.powf(t));
        let bias_correction2_sqrt = (1.0 - beta2.powf(t)).sqrt();
        // Scalars as CPU 0-dim tensors: elementwise kernels take them as
        // arguments on any device, without a copy.
        let decay = Tensor::from(weight_decay);
        let one_minus_beta2 = Tensor::from(1.0 - beta2);
        let minus_step = Tensor::from(-step_size);
        let (scratch_a, scratch_b) = self.scratch()?;
        for p in &mut self.params {
            let mut grad = p.param.f_grad()?;
            if !grad.defined() {
                continue;
            }
            let shape = grad.size();
            let numel = grad.numel() as i64;
            let a = scratch_a.f_narrow(0, 0, numel)?.f_view(shape.as_slice())?;
            let b = scratch_b.f_narrow(0, 0, numel)?.f_view(shape.as_slice())?;
            if weight_decay != 0.0 {
                let _ = grad.f_addcmul_(&p.param, &decay)?;
            }
            let _ = p.exp_avg.f_lerp_(&grad, 1.0 - beta1)?;
            // v = β2·v + (1−β2)·g²
            let _ = p.exp_avg_sq.f_mul_scalar_(beta2)?;
            let _ = grad.f_mul_out(&a, &one_minus_beta2)?;
            let _ = p.exp_avg_sq.f_addcmul_(&a, &grad)?;
            // denom = sqrt(v)/sqrt(1−β2^t) + eps, in a
            let mut denom = p.exp_avg_sq.f_sqrt_out(&a)?;
            let _ = denom.f_div_scalar_(bias_correction2_sqrt)?;
            let _ = denom.f_add_scalar_(eps)?;
            let _ = p.exp_avg.f_mul_out(&b, &minus_step)?;
            let _ = p.param.f_addcdiv_(&b, &denom)?;
        }
        Ok(())
    }

    /// Two flat buffers as large as the largest parameter, made at the first step.
    fn scratch(&mut self) -> Result<(Tensor, Tensor)> {
        if self.scratch.is_none() {
            let Some(first) = self.params.first() else {
                return Ok((Tensor::new(), Tensor::new()));
            };
            let largest = self.params.iter().map(|p| p.param.numel()).max().unwrap_or(0) as i64;
            let options = (first.param.kind(), first.param.device());
            self.scratch = Some((Tensor::f_empty([largest], options)?, Tensor::f_empty([largest], options)?));
        }
        let (a, b) = self.scratch.as_ref().expect("made above");
        Ok((a.shallow_clone(), b.shallow_clone()))
    }

    /// Zeroes the gradients in place (the next backward adds to zero, exactly).
    pub fn zero_grad(&mut self) -> Result<()> {
        for p in &mut self.params {
            let mut grad = p.param.f_grad()?;
            if grad.defined() {
                let _ = grad.f_detach_()?;
                let _ = grad.f_zero_()?;
            }
        }
        Ok(())
    }
}
