//! A torchvision-topology ResNet-18 written by torch (1000-class head) loaded
//! into man-core's 7-class ResNet18: the backbone must reproduce python's
//! eval-mode logits; broken files must be refused with the offending names.

mod weights_support;

use std::path::PathBuf;
use std::sync::OnceLock;

use man_core::model::ResNet18;
use man_core::weights::{apply_tensors, load_backbone, read_tensors};
use tch::{nn, Device, Kind, Tensor};
use weights_support::{f32s, fresh_dir, read_manifest, run_python};

const SCRIPT: &str = r#"
import collections, json, os, sys
import torch
import torch.nn as nn
out = sys.argv[1]
torch.manual_seed(0)

class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))

class ResNet18(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, c in enumerate([64, 128, 256, 512]):
            setattr(self, f'layer{i + 1}', nn.Sequential(Block(cin, c, 1 if i == 0 else 2), Block(c, c, 1)))
            cin = c
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def features(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, 5):
            x = getattr(self, f'layer{i}')(x)
        return torch.flatten(self.avgpool(x), 1)

net = ResNet18(1000)
with torch.no_grad():
    # Non-trivial BatchNorm state, so that eval mode depends on every buffer.
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            # torchvision's init keeps activations, and so the logits, of order one.
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        if isinstance(m, nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.num_batches_tracked.fill_(7)
net.eval()
head = nn.Linear(512, 7)
x = torch.randn(2, 3, 40, 40)
with torch.no_grad():
    logits = head(net.features(x))

def raw(t):
    return t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes().hex()

sd = net.state_dict()
torch.save(sd, os.path.join(out, 'resnet18_imagenet.pth'))
torch.save({'epoch': 40, 'state_dict': collections.OrderedDict(('module.' + k, v) for k, v in sd.items())},
           os.path.join(out, 'resnet18_msceleb.pth.tar'), _use_new_zipfile_serialization=False)
torch.save({'fc.' + k: v for k, v in head.state_dict().items()}, os.path.join(out, 'head7.pt'))
torch.save({k: v for k, v in sd.items() if not k.startswith('fc.')}, os.path.join(out, 'resnet18_headless.pth'))
bad = collections.OrderedDict(sd)
del bad['layer1.0.conv1.weight']
del bad['layer4.1.bn2.running_var']
bad['conv1.weight'] = torch.zeros(64, 3, 3, 3)
torch.save(bad, os.path.join(out, 'resnet18_broken.pth'))
only_missing = collections.OrderedDict(sd)
del only_missing['layer1.0.conv1.weight']
torch.save(only_missing, os.path.join(out, 'resnet18_missing.pth'))
assert logits.abs().mean() > 0.1, logits
with open(os.path.join(out, 'expected.json'), 'w') as f:
    json.dump({'x': raw(x), 'x_shape': list(x.shape), 'logits': raw(logits)}, f)
"#;

struct Fixtures {
    dir: PathBuf,
    x: Vec<f32>,
    x_shape: Vec<i64>,
    logits: Vec<f32>,
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = fresh_dir("resnet");
        run_python(SCRIPT, &dir);
        let m = read_manifest(&dir.join("expected.json"));
        let x_shape = m["x_shape"].as_array().unwrap().iter().map(|d| d.as_i64().unwrap()).collect();
        let x = f32s(m["x"].as_str().unwrap());
        let logits = f32s(m["logits"].as_str().unwrap());
        Fixtures { dir, x, x_shape, logits }
    })
}

fn model() -> (nn::VarStore, ResNet18) {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = ResNet18::new(&vs.root(), 7);
    (vs, net)
}

/// Python's 7-class head, copied in directly: a head-only file is not a backbone.
fn set_head(vs: &nn::VarStore) {
    let vars = vs.variables();
    for t in read_tensors(&fixtures().dir.join("head7.pt")).unwrap() {
        let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
        let src = Tensor::from_data_size(&t.data, &shape, Kind::Float);
        tch::no_grad(|| vars[&t.name].shallow_clone().copy_(&src));
    }
}

fn assert_python_logits(net: &ResNet18, what: &str) {
    let fx = fixtures();
    let x = Tensor::from_slice(&fx.x).reshape(&fx.x_shape);
    let logits = tch::no_grad(|| net.forward(&x, false)).unwrap();
    let got = Vec::<f32>::try_from(logits.to_kind(Kind::Float).flatten(0, -1)).unwrap();
    assert_eq!(got.len(), fx.logits.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(&fx.logits).enumerate() {
        assert!((g - w).abs() < 1e-4, "{what}: logit {i} is {g}, python says {w}");
    }
}

#[test]
fn imagenet_backbone_plus_a_7_class_head_reproduces_python_logits() {
    let fx = fixtures();
    let (vs, net) = model();
    let n_vars = vs.variables().len();
    let report = load_backbone(&vs, &fx.dir.join("resnet18_imagenet.pth")).unwrap();
    assert_eq!(report.loaded.len(), n_vars - 2, "{report:?}");
    assert!(report.loaded.iter().all(|n| !n.starts_with("fc.")), "{report:?}");
    assert_eq!(report.head_initialised, vec!["fc.bias".to_string(), "fc.weight".to_string()]);
    let mut skipped = report.skipped.clone();
    skipped.sort();
    assert!(skipped.contains(&"fc.weight".to_string()) && skipped.contains(&"fc.bias".to_string()), "{skipped:?}");
    assert_eq!(skipped.iter().filter(|s| s.ends_with(".num_batches_tracked")).count(), 20, "{skipped:?}");
    assert_eq!(skipped.len(), 22, "{skipped:?}");

    set_head(&vs);
    assert_python_logits(&net, "imagenet zip");
}

#[test]
fn a_file_without_a_head_loads_the_whole_backbone_and_initialises_the_head() {
    let fx = fixtures();
    let (vs, net) = model();
    let head_before = vs.variables()["fc.weight"].copy();
    let report = load_backbone(&vs, &fx.dir.join("resnet18_headless.pth")).unwrap();
    assert_eq!(report.loaded.len(), vs.variables().len() - 2, "{report:?}");
    assert_eq!(report.head_initialised, vec!["fc.bias".to_string(), "fc.weight".to_string()]);
    assert!(report.skipped.iter().all(|s| s.ends_with(".num_batches_tracked")), "{report:?}");
    assert!(vs.variables()["fc.weight"].equal(&head_before), "the head keeps its initialisation");

    set_head(&vs);
    assert_python_logits(&net, "headless zip");
}

#[test]
fn a_legacy_wrapped_file_read_once_loads_two_models() {
    let fx = fixtures();
    let mut tensors = read_tensors(&fx.dir.join("resnet18_msceleb.pth.tar")).unwrap();
    // A checkpoint whose head already has 7 classes is loaded whole.
    tensors.retain(|t| !t.name.starts_with("fc."));
    tensors.extend(read_tensors(&fx.dir.join("head7.pt")).unwrap());
    for which in ["first", "second"] {
        let (vs, net) = model();
        let report = apply_tensors(&vs, &tensors).unwrap();
        assert_eq!(report.loaded.len(), vs.variables().len(), "{which}: {report:?}");
        assert!(report.head_initialised.is_empty(), "{which}: {report:?}");
        assert_python_logits(&net, which);
    }
}

#[test]
fn a_backbone_tensor_missing_is_named() {
    let fx = fixtures();
    let (vs, _net) = model();
    let path = fx.dir.join("resnet18_missing.pth");
    let err = load_backbone(&vs, &path).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_WEIGHTS", "{err}");
    let msg = err.to_string();
    assert!(msg.contains("layer1.0.conv1.weight") && msg.contains(&path.display().to_string()), "{msg}");
}

#[test]
fn every_backbone_problem_is_listed_and_nothing_is_copied() {
    let fx = fixtures();
    let (vs, _net) = model();
    let before = vs.variables()["layer2.0.conv1.weight"].copy();
    let err = load_backbone(&vs, &fx.dir.join("resnet18_broken.pth")).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_WEIGHTS", "{err}");
    let msg = err.to_string();
    for name in ["layer1.0.conv1.weight", "layer4.1.bn2.running_var", "conv1.weight has shape [64, 3, 3, 3]"] {
        assert!(msg.contains(name), "{name} not in: {msg}");
    }
    assert!(!msg.contains("fc."), "the head is not a backbone problem: {msg}");
    assert!(vs.variables()["layer2.0.conv1.weight"].equal(&before), "a failed load changed the model");
}

#[test]
fn a_truncated_checkpoint_is_a_weights_error_naming_the_file() {
    let fx = fixtures();
    let bytes = std::fs::read(fx.dir.join("resnet18_imagenet.pth")).unwrap();
    let path = fx.dir.join("resnet18_truncated.pth");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let (vs, _net) = model();
    let err = load_backbone(&vs, &path).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_WEIGHTS", "{err}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
}
