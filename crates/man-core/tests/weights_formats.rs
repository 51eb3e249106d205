//! read_tensors against files written by torch itself, in every format a FER
//! user meets, checked bit for bit against python's own bytes.

mod weights_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use man_core::weights::{read_tensors, DType, RawTensor};
use weights_support::{expected_tensors, fresh_dir, read_manifest, run_python, Expected};

const SCRIPT: &str = r#"
import collections, json, os, sys
import torch
out = sys.argv[1]
OD = collections.OrderedDict
torch.manual_seed(0)

shared = torch.randn(20)
base = torch.randn(4, 5)
sd = OD()
sd['f32'] = torch.randn(3, 4)
sd['f64'] = torch.randn(5, dtype=torch.float64)
sd['f16'] = torch.randn(2, 3).half()
sd['bf16'] = torch.randn(2, 3).bfloat16()
sd['i32'] = torch.arange(-3, 3, dtype=torch.int32)
sd['u8'] = torch.arange(0, 250, 7, dtype=torch.uint8)
sd['flags'] = torch.tensor([True, False, True, True])
sd['bn.num_batches_tracked'] = torch.tensor(42, dtype=torch.int64)
sd['param'] = torch.nn.Parameter(torch.randn(3))
sd['transposed'] = base.t()
sd['whole'] = shared
sd['window'] = shared[7:13].view(2, 3)
sd['every_third'] = shared[1::3]
sd['empty'] = torch.zeros(0, 4)
sd['nested'] = OD(inner=OD(w=torch.randn(2, 2)))
assert not sd['transposed'].is_contiguous()
assert sd['window'].storage_offset() == 7 and sd['every_third'].stride() == (3,)

flat = OD()
for k, v in sd.items():
    if isinstance(v, dict):
        for k2, v2 in v.items():
            for k3, v3 in v2.items():
                flat[f'{k}.{k2}.{k3}'] = v3
    else:
        flat[k] = v

def raw(t):
    return t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes().hex()

names = {torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.bfloat16: 'BF16',
         torch.int64: 'I64', torch.int32: 'I32', torch.uint8: 'U8', torch.bool: 'Bool'}
manifest = {'tensors': {k: {'dtype': names[v.dtype], 'shape': list(v.shape), 'hex': raw(v)} for k, v in flat.items()}}

# Entries that are not tensors, as training scripts leave them in state dicts.
full = OD(sd)
full['note'] = 'hello'
full['ratio'] = 0.5
full['blob'] = b'\x00\xff'
full['shape'] = (1, 2)
full['nothing'] = None

wrapped = {
    'epoch': 3,
    'arch': 'resnet18',
    'state_dict': OD(('module.' + k, v) for k, v in full.items()),
    'optimizer': {'state': {0: {'exp_avg': torch.ones(3)}}, 'param_groups': [{'lr': 0.1, 'params': [0]}]},
}
torch.save(full, os.path.join(out, 'plain.pt'))
torch.save(full, os.path.join(out, 'legacy.pth'), _use_new_zipfile_serialization=False)
torch.save(wrapped, os.path.join(out, 'wrapped.pth.tar'))
torch.save(wrapped, os.path.join(out, 'wrapped_legacy.pth.tar'), _use_new_zipfile_serialization=False)
torch.save(torch.nn.Linear(2, 2), os.path.join(out, 'whole_module.pt'), _use_new_zipfile_serialization=False)
torch.save({'epoch': 1, 'model': torch.nn.Conv2d(1, 1, 1)}, os.path.join(out, 'wrapped_module.pt'))
# Storage views of the legacy format (PyTorch < 1.0 wrote them; torch.save
# no longer does), written by hand in that layout and checked with torch.load.
import pickle, struct
class View:
    def __init__(self, view):
        self.view = view
class Rebuilt:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, OD())
    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)
class LegacyPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, View):
            return ('storage', torch.FloatStorage, '0', 'cpu', 20, obj.view)
        return None
root = torch.randn(20)
with open(os.path.join(out, 'legacy_views.pth'), 'wb') as f:
    pickle.dump(0x1950a86a20f9469cfc6c, f, protocol=2)
    pickle.dump(1001, f, protocol=2)
    pickle.dump(dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=4)), f, protocol=2)
    LegacyPickler(f, protocol=2).dump(OD(
        viewed=Rebuilt(View(('1', 4, 10)), 1, (2, 3), (3, 1)),
        strided=Rebuilt(View(None), 2, (3, 2), (1, 3)),
    ))
    pickle.dump(['0'], f, protocol=2)
    f.write(struct.pack('<q', 20))
    f.write(root.numpy().tobytes())
views = torch.load(os.path.join(out, 'legacy_views.pth'))
assert torch.equal(views['viewed'], root[5:11].view(2, 3)), views
manifest['legacy_views'] = {k: {'dtype': 'F32', 'shape': list(v.shape), 'hex': raw(v)} for k, v in views.items()}

# A big-endian archive, as written on s390x: byteorder says 'big' and every
# float32 storage is byte-swapped; torch itself must read it back unchanged.
import zipfile
import numpy as np
f32 = OD((k, v) for k, v in flat.items() if v.dtype == torch.float32)
torch.save(f32, os.path.join(out, 'little.pt'))
with zipfile.ZipFile(os.path.join(out, 'little.pt')) as src, \
        zipfile.ZipFile(os.path.join(out, 'big_endian.pt'), 'w', zipfile.ZIP_STORED) as dst:
    for info in src.infolist():
        data = src.read(info.filename)
        if info.filename.endswith('/byteorder'):
            data = b'big'
        elif '/data/' in info.filename:
            data = np.frombuffer(data, dtype='<f4').astype('>f4').tobytes()
        dst.writestr(info.filename, data)
back = torch.load(os.path.join(out, 'big_endian.pt'))
assert all(torch.equal(back[k], v) for k, v in f32.items())
manifest['big_endian_names'] = list(f32.keys())

try:
    from safetensors.torch import save_file
    save_file({k: v.detach().clone().contiguous() for k, v in flat.items()}, os.path.join(out, 'plain.safetensors'))
    manifest['safetensors_from_python'] = True
except ImportError:
    manifest['safetensors_from_python'] = False
with open(os.path.join(out, 'expected.json'), 'w') as f:
    json.dump(manifest, f)
"#;

struct Fixtures {
    dir: PathBuf,
    expected: BTreeMap<String, Expected>,
    big_endian_names: Vec<String>,
    legacy_views: BTreeMap<String, Expected>,
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = fresh_dir("formats");
        run_python(SCRIPT, &dir);
        let manifest = read_manifest(&dir.join("expected.json"));
        let expected = expected_tensors(&manifest["tensors"]);
        let legacy_views = expected_tensors(&manifest["legacy_views"]);
        if manifest["safetensors_from_python"] != serde_json::Value::Bool(true) {
            write_safetensors(&dir.join("plain.safetensors"), &expected);
        }
        let big_endian_names =
            manifest["big_endian_names"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect();
        Fixtures { dir, expected, big_endian_names, legacy_views }
    })
}

/// Fallback when the venv lacks the `safetensors` package.
fn write_safetensors(path: &Path, expected: &BTreeMap<String, Expected>) {
    use safetensors::tensor::{serialize_to_file, TensorView};
    use safetensors::Dtype;
    let views: Vec<(String, TensorView)> = expected
        .iter()
        .map(|(name, e)| {
            let dtype = match e.dtype.as_str() {
                "F32" => Dtype::F32,
                "F64" => Dtype::F64,
                "F16" => Dtype::F16,
                "BF16" => Dtype::BF16,
                "I64" => Dtype::I64,
                "I32" => Dtype::I32,
                "U8" => Dtype::U8,
                "Bool" => Dtype::BOOL,
                other => panic!("unexpected dtype {other}"),
            };
            (name.clone(), TensorView::new(dtype, e.shape.clone(), &e.data).unwrap())
        })
        .collect();
    serialize_to_file(views, None, path).unwrap();
}

fn dtype_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "F32",
        DType::F64 => "F64",
        DType::F16 => "F16",
        DType::BF16 => "BF16",
        DType::I64 => "I64",
        DType::I32 => "I32",
        DType::U8 => "U8",
        DType::Bool => "Bool",
    }
}

fn assert_matches_python(file: &str) {
    assert_matches_python_subset(file, None);
}

fn assert_matches_python_subset(file: &str, only: Option<&[String]>) {
    let fx = fixtures();
    let expected: BTreeMap<&String, &Expected> =
        fx.expected.iter().filter(|(name, _)| only.is_none_or(|o| o.contains(name))).collect();
    let tensors: Vec<RawTensor> = read_tensors(&fx.dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let got: BTreeMap<String, Expected> = tensors
        .into_iter()
        .map(|t| {
            assert_eq!(t.data.len(), t.shape.iter().product::<usize>() * t.dtype.size(), "{file}: {}", t.name);
            (t.name, Expected { dtype: dtype_name(t.dtype).to_string(), shape: t.shape, data: t.data })
        })
        .collect();
    let got_names: Vec<&String> = got.keys().collect();
    let want_names: Vec<&String> = expected.keys().copied().collect();
    assert_eq!(got_names, want_names, "{file}: tensor names");
    for (name, want) in expected {
        assert_eq!(&got[name], want, "{file}: tensor {name}");
    }
}

#[test]
fn legacy_storage_views_are_honoured() {
    let fx = fixtures();
    let got: BTreeMap<String, (Vec<usize>, Vec<u8>)> = read_tensors(&fx.dir.join("legacy_views.pth"))
        .unwrap()
        .into_iter()
        .map(|t| {
            assert_eq!(t.dtype, DType::F32, "{}", t.name);
            (t.name, (t.shape, t.data))
        })
        .collect();
    let want: BTreeMap<String, (Vec<usize>, Vec<u8>)> =
        fx.legacy_views.iter().map(|(k, e)| (k.clone(), (e.shape.clone(), e.data.clone()))).collect();
    assert_eq!(want.len(), 2);
    assert_eq!(got, want);
}

#[test]
fn big_endian_archive_is_byte_swapped() {
    let names = fixtures().big_endian_names.clone();
    assert!(names.len() >= 5, "{names:?}");
    assert_matches_python_subset("big_endian.pt", Some(&names));
}

#[test]
fn zip_archive_is_read_bit_exactly() {
    assert_matches_python("plain.pt");
}

#[test]
fn legacy_format_is_read_bit_exactly() {
    assert_matches_python("legacy.pth");
}

#[test]
fn state_dict_wrapper_and_module_prefix_are_removed_from_zip() {
    assert_matches_python("wrapped.pth.tar");
}

#[test]
fn state_dict_wrapper_and_module_prefix_are_removed_from_legacy() {
    assert_matches_python("wrapped_legacy.pth.tar");
}

#[test]
fn safetensors_is_read_bit_exactly() {
    assert_matches_python("plain.safetensors");
}

fn assert_weights_error(path: &Path, what: &str) -> String {
    match read_tensors(path) {
        Ok(t) => panic!("{what}: read {} tensors from {}", t.len(), path.display()),
        Err(e) => {
            assert_eq!(e.code(), "ERR_MAN_WEIGHTS", "{what}: {e}");
            let msg = e.to_string();
            assert!(msg.contains(&path.display().to_string()), "{what}: message does not name the file: {msg}");
            msg
        }
    }
}

#[test]
fn every_truncation_is_a_weights_error_naming_the_file() {
    let fx = fixtures();
    for file in ["plain.pt", "legacy.pth", "wrapped_legacy.pth.tar", "plain.safetensors"] {
        let bytes = std::fs::read(fx.dir.join(file)).unwrap();
        let cut_path = fx.dir.join(format!("cut-{file}"));
        let step = (bytes.len() / 97).max(1);
        let lengths = (0..bytes.len()).step_by(step).chain([bytes.len() - 1, bytes.len() - 9]);
        for len in lengths {
            std::fs::write(&cut_path, &bytes[..len]).unwrap();
            assert_weights_error(&cut_path, &format!("{file} cut to {len} of {} bytes", bytes.len()));
        }
    }
}

#[test]
fn a_pickled_module_is_refused_with_advice() {
    let msg = assert_weights_error(&fixtures().dir.join("whole_module.pt"), "whole module");
    assert!(msg.contains("torch.nn.modules.linear.Linear") && msg.contains("state_dict()"), "{msg}");
}

#[test]
fn a_pickled_module_inside_a_wrapper_is_refused_with_advice() {
    let msg = assert_weights_error(&fixtures().dir.join("wrapped_module.pt"), "wrapped module");
    assert!(
        msg.contains("'model'") && msg.contains("torch.nn.modules.conv.Conv2d") && msg.contains("state_dict()"),
        "{msg}"
    );
}

#[test]
fn unknown_content_is_a_weights_error_and_a_missing_file_an_io_error() {
    let dir = &fixtures().dir;
    let junk = dir.join("junk.pth");
    std::fs::write(&junk, b"this is not a checkpoint at all, just text").unwrap();
    assert_weights_error(&junk, "text file");
    let err = read_tensors(&dir.join("does-not-exist.pth")).unwrap_err();
    assert_eq!(err.code(), "ERR_MAN_IO", "{err}");
}
