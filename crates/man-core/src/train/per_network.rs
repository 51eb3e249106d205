//! A step's backward pass one network at a time (`Backward::PerNetwork`), so
//! that only one network's activations are alive at once.
//!
//! The two networks share no weights; the loss couples them only through the
//! values of their logits (the ambiguous subset's KL terms). So the gradient
//! of the step's loss with respect to each network's logits is computed on
//! detached copies of the logits (leaves, with exactly the loss graph of the
//! single backward pass), and then pushed through that network's graph alone.
//! Each network's forward passes run in the same order as in the single pass
//! (BatchNorm's running statistics depend on it), its weights receive the
//! same gradients summed in the same order, so the weights after a step are
//! bitwise those of `Backward::Once` (crates/man-core/tests/train_backward.rs).
//! The cost: network 2 runs one more forward pass, without graph, on the
//! passes the first network's gradient needs its logits for.

use tch::{Kind, Tensor};

use super::trainer::{ambiguous_terms, clean_terms, noisy_terms, subset_factor, LossWeights, Pending, Trainer};
use crate::Result;

/// One forward pass of both networks within a step: its input, whether it
/// gets gradient, and whether the first network's gradient needs the second
/// network's logits on it (`coupled`).
pub(super) struct Pass<'a> {
    pub xs: &'a Tensor,
    pub grad: bool,
    pub coupled: bool,
}

/// Logits of a step's passes, `[pass][network]`.
pub(super) type Logits = Vec<[Tensor; 2]>;

/// Leaves holding `values`: what the loss graph is built on.
fn leaf(values: &Tensor, grad: bool) -> Result<Tensor> {
    Ok(values.f_detach()?.f_set_requires_grad(grad)?)
}

/// Running statistics of network `k`'s BatchNorm layers (every variable without gradient).
fn statistics(t: &Trainer, k: usize) -> Vec<Tensor> {
    let mut vars: Vec<(String, Tensor)> = t.var_store(k).variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars.into_iter().filter(|(_, v)| !v.requires_grad()).map(|(_, v)| v).collect()
}

/// Back-propagates `grads` (gradients of the loss at `logits`) through the
/// graphs that made `logits`, in one backward call: a surrogate Σ⟨l, g⟩ whose
/// gradient at each `l` is exactly `1·g`.
fn push_through(logits: &[&Tensor], grads: &[Tensor]) -> Result<()> {
    let mut total: Option<Tensor> = None;
    for (l, g) in logits.iter().zip(grads) {
        let part = l.f_mul(g)?.f_sum(Kind::Float)?;
        total = Some(match total {
            Some(t) => t.f_add(&part)?,
            None => part,
        });
    }
    if let Some(t) = total {
        t.f_backward()?;
    }
    Ok(())
}

impl Trainer {
    /// Logits of network `k` on `pass`, with graph when the pass gets gradient.
    fn pass_logits(&self, k: usize, pass: &Pass<'_>) -> Result<Tensor> {
        if pass.grad {
            self.logits(k, pass.xs, true)
        } else {
            let _guard = tch::no_grad_guard();
            self.logits(k, pass.xs, true)
        }
    }

    /// Runs `passes` network by network and back-propagates the loss that
    /// `terms` builds from their logits, each network's share before the next
    /// network's forward passes. `pending` receives the step's numbers (the
    /// loss is marked as already back-propagated).
    pub(super) fn per_network(
        &self,
        passes: &[Pass<'_>],
        pending: &mut Pending,
        terms: impl Fn(&Logits, &mut Pending) -> Result<()>,
    ) -> Result<()> {
        // The second network's logits where the first one's gradient needs
        // them: train mode as in the step (its batch statistics), its running
        // statistics put back so that they see each pass once, in order.
        let mut coupled: Vec<Option<Tensor>> = Vec::with_capacity(passes.len());
        if passes.iter().any(|p| p.coupled) {
            let stats = statistics(self, 1);
            let saved = stats.iter().map(|s| s.f_detach_copy()).collect::<std::result::Result<Vec<_>, _>>()?;
            let _guard = tch::no_grad_guard();
            for p in passes {
                coupled.push(if p.coupled { Some(self.logits(1, p.xs, true)?) } else { None });
            }
            for (mut s, v) in stats.into_iter().zip(&saved) {
                s.f_copy_(v)?;
            }
        } else {
            coupled.resize_with(passes.len(), || None);
        }

        // Network 1: its passes, the loss on leaves (network 2's logits where
        // they matter, zeros where its gradient does not depend on them).
        let first: Vec<Tensor> = passes.iter().map(|p| self.pass_logits(0, p)).collect::<Result<_>>()?;
        let mut leaves: Logits = Vec::with_capacity(passes.len());
        for ((p, l1), l2) in passes.iter().zip(&first).zip(&coupled) {
            let other = match l2 {
                Some(l2) => leaf(l2, p.grad)?,
                None => leaf(&l1.f_zeros_like()?, p.grad)?,
            };
            leaves.push([leaf(l1, p.grad)?, other]);
        }
        let mut scratch = Pending::default();
        terms(&leaves, &mut scratch)?;
        let Some(loss) = scratch.loss else {
            // Nothing trained: the step's numbers from the real logits.
            drop(first);
            let second: Vec<Tensor> = passes.iter().map(|p| self.pass_logits(1, p)).collect::<Result<_>>()?;
            return terms(&pair(&leaves, &second)?, pending);
        };
        loss.f_backward()?;
        self.push_network(passes, &first, &leaves, 0)?;
        drop(first);

        // Network 2, with the first network's logits as plain values.
        let second: Vec<Tensor> = passes.iter().map(|p| self.pass_logits(1, p)).collect::<Result<_>>()?;
        let leaves = pair(&leaves, &second)?;
        terms(&leaves, pending)?;
        if let Some(loss) = &pending.loss {
            loss.f_backward()?;
            self.push_network(passes, &second, &leaves, 1)?;
        }
        pending.back_propagated = true;
        Ok(())
    }

    /// `codivision_step_tensors` with `Backward::PerNetwork`: the same
    /// subsets (images and labels of each, the noisy one with its strong
    /// views), the same passes and terms in the same order, each term
    /// weighted against the `batch` samples as `subset_factor` says. Every
    /// subset given must be one BatchNorm can train on.
    pub(super) fn codivision_per_network(
        &self,
        clean: Option<(Tensor, Tensor)>,
        noisy: Option<((Tensor, Tensor), Tensor)>,
        ambiguous: Option<(Tensor, Tensor)>,
        w: LossWeights,
        batch: usize,
        pending: &mut Pending,
    ) -> Result<()> {
        let factor = |ys: &Tensor| subset_factor(w, ys.size()[0] as usize, batch);
        let (noisy, strong) = match noisy {
            Some((weak, strong)) => (Some(weak), Some(strong)),
            None => (None, None),
        };
        let mut passes = Vec::new();
        if let Some((xs, _)) = &clean {
            passes.push(Pass { xs, grad: true, coupled: false });
        }
        if let (Some((xs, _)), Some(strong)) = (&noisy, &strong) {
            passes.push(Pass { xs, grad: !w.detach_weak, coupled: false });
            passes.push(Pass { xs: strong, grad: true, coupled: false });
        }
        if let Some((xs, _)) = &ambiguous {
            passes.push(Pass { xs, grad: true, coupled: true });
        }
        if passes.is_empty() {
            return Ok(());
        }
        self.per_network(&passes, pending, |l, p| {
            let mut i = 0;
            if let Some((_, ys)) = &clean {
                clean_terms(&l[i][0], &l[i][1], ys, factor(ys), p)?;
                i += 1;
            }
            if let Some((_, ys)) = &noisy {
                noisy_terms([&l[i][0], &l[i][1]], [&l[i + 1][0], &l[i + 1][1]], ys, w, factor(ys), p)?;
                i += 2;
            }
            if let Some((_, ys)) = &ambiguous {
                ambiguous_terms(&l[i][0], &l[i][1], ys, w, factor(ys), p)?;
            }
            Ok(())
        })
    }

    /// Pushes the gradients of network `k`'s leaves through its own graph.
    fn push_network(&self, passes: &[Pass<'_>], logits: &[Tensor], leaves: &Logits, k: usize) -> Result<()> {
        let mut ls = Vec::new();
        let mut gs = Vec::new();
        for ((p, l), pair) in passes.iter().zip(logits).zip(leaves) {
            if p.grad {
                let g = pair[k].f_grad()?;
                if g.defined() {
                    ls.push(l);
                    gs.push(g);
                }
            }
        }
        push_through(&ls, &gs)
    }
}

/// New leaves: network 1's values from `leaves`, network 2's from `second`.
fn pair(leaves: &Logits, second: &[Tensor]) -> Result<Logits> {
    leaves
        .iter()
        .zip(second)
        .map(|(l, l2)| {
            let grad = l[0].requires_grad();
            Ok([leaf(&l[0], grad)?, leaf(l2, grad)?])
        })
        .collect()
}
