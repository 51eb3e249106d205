//! A self-contained forward/backward pass on random data: proof that the
//! addon, libtorch and the model agree, used by `runtime` checks and tests.

use tch::{nn, Device, Kind, Tensor};

use crate::model::ResNet18;
use crate::Result;

/// One ResNet-18 forward and backward pass on a random `batch`×3×`size`×`size`
/// batch with random labels; returns the cross-entropy loss.
pub fn resnet_forward_backward(batch: i64, size: i64, classes: i64, seed: i64) -> Result<f64> {
    if batch < 2 || size < 32 || classes < 2 {
        return Err(crate::ManError::Shape(format!(
            "smoke test needs batch >= 2, size >= 32, classes >= 2 (got {batch}, {size}, {classes})"
        )));
    }
    tch::manual_seed(seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = ResNet18::new(&vs.root(), classes);
    let xs = Tensor::f_randn([batch, 3, size, size], (Kind::Float, Device::Cpu))?;
    let ys = Tensor::f_randint(classes, [batch], (Kind::Int64, Device::Cpu))?;
    let logits = net.forward(&xs, true)?;
    let loss = logits.f_cross_entropy_loss::<Tensor>(&ys, None, tch::Reduction::Mean, -100, 0.0)?;
    loss.f_backward()?;
    let grad_norm = vs
        .trainable_variables()
        .iter()
        .map(|v| v.grad().f_norm().and_then(|n| n.f_double_value(&[])))
        .collect::<Result<Vec<f64>, _>>()?;
    if grad_norm.iter().any(|g| !g.is_finite()) {
        return Err(crate::ManError::Shape("non-finite gradient in smoke test".into()));
    }
    Ok(loss.f_double_value(&[])?)
}
