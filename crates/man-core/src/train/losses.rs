//! The losses of docs/method.md on logits of any float kind. Every function keeps
//! the autograd graph of both arguments: nothing is detached, as in the
//! reference, so both networks receive gradient from every term.

use tch::{Reduction, Tensor};

use crate::Result;

/// Mean cross-entropy of `logits` (N×C) against class indices `labels` (N, int64).
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    Ok(logits.f_cross_entropy_loss::<Tensor>(labels, None, Reduction::Mean, -100, 0.0)?)
}

/// KL(pred‖target) = mean over samples of Σc softmax(target)c·(log softmax(target)c − log softmax(pred)c),
/// the reference's `kl_loss(pred, soft_targets)`.
pub fn kl(pred: &Tensor, target: &Tensor) -> Result<Tensor> {
    let log_q = target.f_log_softmax(1, None)?;
    let q = target.f_softmax(1, None)?;
    let log_p = pred.f_log_softmax(1, None)?;
    let per_sample = q.f_mul(&log_q.f_sub(&log_p)?)?.f_sum_dim_intlist(1, false, None)?;
    Ok(per_sample.f_mean(None)?)
}

/// (1−λ)·½(CE(l1,y)+CE(l2,y)) + λ·½(KL(l1‖l2)+KL(l2‖l1)): the ambiguous subset's loss.
pub fn mutual(l1: &Tensor, l2: &Tensor, labels: &Tensor, lambda: f64) -> Result<Tensor> {
    let ce = cross_entropy(l1, labels)?.f_add(&cross_entropy(l2, labels)?)?.f_mul_scalar(0.5)?;
    let sym_kl = kl(l1, l2)?.f_add(&kl(l2, l1)?)?.f_mul_scalar(0.5)?;
    Ok(ce.f_mul_scalar(1.0 - lambda)?.f_add(&sym_kl.f_mul_scalar(lambda)?)?)
}

/// Mean squared error between softmax(weak) and softmax(strong) over all samples and classes.
pub fn consistency(weak: &Tensor, strong: &Tensor) -> Result<Tensor> {
    let p = weak.f_softmax(1, None)?;
    let q = strong.f_softmax(1, None)?;
    Ok(p.f_mse_loss(&q, Reduction::Mean)?)
}

/// The noisy subset's loss under `man.noisyLoss: 'pseudo-label'` (a deviation
/// from the reference, docs/method.md): the two networks' mean softmax on the
/// weak views, without gradient, gives each sample a class and a confidence;
/// each network's strong-view logits learn that class by cross-entropy where
/// the confidence reaches `threshold`. The mean runs over all samples, those
/// under the threshold counting 0 (as FixMatch). Returns ½(L1 + L2).
pub fn pseudo_label(weak: [&Tensor; 2], strong: [&Tensor; 2], threshold: f64) -> Result<Tensor> {
    let p1 = weak[0].f_detach()?.f_softmax(1, None)?;
    let p2 = weak[1].f_detach()?.f_softmax(1, None)?;
    let (confidence, class) = p1.f_add(&p2)?.f_mul_scalar(0.5)?.f_max_dim(1, false)?;
    let mask = confidence.f_ge(threshold)?.f_to_kind(strong[0].kind())?;
    let term = |logits: &Tensor| -> Result<Tensor> {
        let per_sample = logits.f_cross_entropy_loss::<Tensor>(&class, None, Reduction::None, -100, 0.0)?;
        Ok(per_sample.f_mul(&mask)?.f_mean(None)?)
    };
    Ok(term(strong[0])?.f_add(&term(strong[1])?)?.f_mul_scalar(0.5)?)
}
