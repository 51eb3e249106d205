//! ResNet-18 with the torchvision topology and state-dict names
//! (`conv1.weight`, `layer2.0.downsample.0.weight`, `fc.bias`, ...), written
//! with tch's fallible calls so that a bad input is an error, not a panic.

use tch::{nn, Tensor};

use crate::Result;

const BN_EPS: f64 = 1e-5;
const BN_MOMENTUM: f64 = 0.1;

/// Conv weights ~ N(0, sqrt(2/n)), n = k·k·out_channels (docs/method.md).
fn conv(p: nn::Path, c_in: i64, c_out: i64, k: i64) -> Tensor {
    let n = (k * k * c_out) as f64;
    p.var("weight", &[c_out, c_in, k, k], nn::Init::Randn { mean: 0.0, stdev: (2.0 / n).sqrt() })
}

struct BatchNorm {
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
}

impl BatchNorm {
    fn new(p: nn::Path, c: i64) -> Self {
        BatchNorm {
            weight: p.var("weight", &[c], nn::Init::Const(1.0)),
            bias: p.var("bias", &[c], nn::Init::Const(0.0)),
            running_mean: p.zeros_no_train("running_mean", &[c]),
            running_var: p.ones_no_train("running_var", &[c]),
        }
    }

    fn forward(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        Ok(Tensor::f_batch_norm(
            xs,
            Some(&self.weight),
            Some(&self.bias),
            Some(&self.running_mean),
            Some(&self.running_var),
            train,
            BN_MOMENTUM,
            BN_EPS,
            false,
        )?)
    }
}

struct BasicBlock {
    conv1: Tensor,
    bn1: BatchNorm,
    conv2: Tensor,
    bn2: BatchNorm,
    stride: i64,
    downsample: Option<(Tensor, BatchNorm)>,
}

impl BasicBlock {
    fn new(p: nn::Path, c_in: i64, c_out: i64, stride: i64) -> Self {
        let downsample = (stride != 1 || c_in != c_out).then(|| {
            let d = &p / "downsample";
            (conv(&d / "0", c_in, c_out, 1), BatchNorm::new(&d / "1", c_out))
        });
        BasicBlock {
            conv1: conv(&p / "conv1", c_in, c_out, 3),
            bn1: BatchNorm::new(&p / "bn1", c_out),
            conv2: conv(&p / "conv2", c_out, c_out, 3),
            bn2: BatchNorm::new(&p / "bn2", c_out),
            stride,
            downsample,
        }
    }

    fn forward(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        // As torchvision: ReLU and the residual sum in place (no backward
        // needs their inputs), and each intermediate dropped as soon as it is
        // consumed; without gradient nothing else holds them.
        let mut ys = xs.f_conv2d(&self.conv1, None::<&Tensor>, [self.stride; 2], [1, 1], [1, 1], 1)?;
        ys = self.bn1.forward(&ys, train)?;
        let _ = ys.f_relu_()?;
        ys = ys.f_conv2d(&self.conv2, None::<&Tensor>, [1, 1], [1, 1], [1, 1], 1)?;
        ys = self.bn2.forward(&ys, train)?;
        let shortcut = match &self.downsample {
            Some((w, bn)) => {
                let s = xs.f_conv2d(w, None::<&Tensor>, [self.stride; 2], [0, 0], [1, 1], 1)?;
                bn.forward(&s, train)?
            }
            None => xs.shallow_clone(),
        };
        let _ = ys.f_add_(&shortcut)?;
        let _ = ys.f_relu_()?;
        Ok(ys)
    }
}

pub struct ResNet18 {
    conv1: Tensor,
    bn1: BatchNorm,
    layers: Vec<BasicBlock>,
    fc_weight: Tensor,
    fc_bias: Tensor,
    pub num_classes: i64,
}

impl ResNet18 {
    /// Builds the network under `p`; parameter names follow torchvision.
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        let mut layers = Vec::with_capacity(8);
        let mut c_in = 64;
        for (i, &c_out) in [64i64, 128, 256, 512].iter().enumerate() {
            let lp = p / format!("layer{}", i + 1);
            let stride = if i == 0 { 1 } else { 2 };
            layers.push(BasicBlock::new(&lp / "0", c_in, c_out, stride));
            layers.push(BasicBlock::new(&lp / "1", c_out, c_out, 1));
            c_in = c_out;
        }
        // PyTorch's nn.Linear (the reference's head): U(±1/sqrt(fan_in)) for both tensors.
        // tch's default weight init is Kaiming-uniform with the ReLU gain, U(±sqrt(6/fan_in)),
        // sqrt(6) times wider; only its bias default matches PyTorch's.
        let bound = 1.0 / 512f64.sqrt();
        let uniform = nn::Init::Uniform { lo: -bound, up: bound };
        let fc = nn::linear(p / "fc", 512, num_classes, nn::LinearConfig { ws_init: uniform, bs_init: Some(uniform), bias: true });
        ResNet18 {
            conv1: conv(p / "conv1", 3, 64, 7),
            bn1: BatchNorm::new(p / "bn1", 64),
            layers,
            fc_weight: fc.ws,
            fc_bias: fc.bs.expect("linear has a bias by default"),
            num_classes,
        }
    }

    /// Logits for an NCHW float batch; `train` selects batch statistics.
    pub fn forward(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let mut ys = xs.f_conv2d(&self.conv1, None::<&Tensor>, [2, 2], [3, 3], [1, 1], 1)?;
        ys = self.bn1.forward(&ys, train)?;
        let _ = ys.f_relu_()?;
        ys = ys.f_max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false)?;
        for block in &self.layers {
            ys = block.forward(&ys, train)?;
        }
        let ys = ys.f_adaptive_avg_pool2d([1, 1])?.f_flatten(1, -1)?;
        Ok(ys.f_linear(&self.fc_weight, Some(&self.fc_bias))?)
    }
}
