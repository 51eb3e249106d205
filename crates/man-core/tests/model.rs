use man_core::model::ResNet18;
use tch::{nn, Device, Kind, Tensor};

#[test]
fn resnet18_has_torchvision_parameter_names_and_counts() {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = ResNet18::new(&vs.root(), 7);
    let vars = vs.variables();
    for name in [
        "conv1.weight",
        "bn1.running_mean",
        "layer1.0.conv1.weight",
        "layer2.0.downsample.0.weight",
        "layer2.0.downsample.1.running_var",
        "layer4.1.bn2.bias",
        "fc.weight",
        "fc.bias",
    ] {
        assert!(vars.contains_key(name), "missing {name}");
    }
    assert!(!vars.contains_key("layer1.0.downsample.0.weight"));
    // torchvision resnet18 with 7 classes: 11,180,103 trainable parameters.
    let trainable: i64 = vs.trainable_variables().iter().map(|t| t.numel() as i64).sum();
    assert_eq!(trainable, 11_176_512 + 512 * 7 + 7);
    let logits = net.forward(&Tensor::zeros([2, 3, 64, 64], (Kind::Float, Device::Cpu)), false).unwrap();
    assert_eq!(logits.size(), vec![2, 7]);
}

#[test]
fn conv_init_follows_method_md() {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let _net = ResNet18::new(&vs.root(), 7);
    let w = vs.variables()["layer4.0.conv1.weight"].shallow_clone();
    // n = 3·3·512, std = sqrt(2/n) ≈ 0.02083
    let std = w.std(true).double_value(&[]);
    assert!((std - (2.0f64 / 4608.0).sqrt()).abs() < 0.001, "std {std}");
    let bn = vs.variables()["layer4.0.bn1.weight"].shallow_clone();
    assert_eq!(bn.min().double_value(&[]), 1.0);
}

#[test]
fn smoke_forward_backward_gives_finite_loss() {
    let loss = man_core::smoke::resnet_forward_backward(2, 64, 7, 0).unwrap();
    assert!(loss.is_finite() && loss > 0.0, "loss {loss}");
}

#[test]
fn smoke_rejects_bad_shapes_with_an_error() {
    let err = man_core::smoke::resnet_forward_backward(1, 8, 7, 0).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_SHAPE");
}

#[test]
fn head_init_is_pytorchs_linear_default() {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let _net = ResNet18::new(&vs.root(), 7);
    // nn.Linear(512, C): weight and bias U(±1/sqrt(512)), std bound/sqrt(3) ≈ 0.02552
    // (tch's own linear default is U(±sqrt(6/512)), std 0.0625).
    let bound = 1.0 / 512f64.sqrt();
    for name in ["fc.weight", "fc.bias"] {
        let t = vs.variables()[name].shallow_clone();
        let max = t.abs().max().double_value(&[]);
        assert!(max <= bound, "{name}: max |value| {max} > {bound}");
    }
    let std = vs.variables()["fc.weight"].std(true).double_value(&[]);
    assert!((std - bound / 3f64.sqrt()).abs() < 0.002, "fc.weight std {std}");
}
