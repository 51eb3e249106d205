//! Shared by the weights_* tests: the venv python that writes the fixtures,
//! a fresh fixture directory per test run, and the expected-values manifest.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SETUP_HINT: &str = "run `npm run setup` to create the project venv (or point MAN_PYTHON at a python with torch)";

/// The python with torch that generates fixtures: MAN_PYTHON, else the project venv.
pub fn python() -> PathBuf {
    let python = match std::env::var_os("MAN_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
    };
    assert!(python.exists(), "fixture python {} does not exist: {SETUP_HINT}", python.display());
    python
}

/// A directory no other test run uses. Directories of earlier runs (their
/// process gone, or older than a day) are removed so that fixtures, some
/// 200 MB a run, do not pile up in the target dir.
pub fn fresh_dir(tag: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let prefix = format!("weights-{tag}-");
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix(&prefix) else { continue };
            let pid = rest.split('-').next().unwrap_or("");
            let process_gone = Path::new("/proc/self").exists() && !Path::new("/proc").join(pid).exists();
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(24 * 3600));
            if process_gone || old {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let dir = root.join(format!("{prefix}{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `script` with the fixture python as `python gen.py <dir>`.
pub fn run_python(script: &str, dir: &Path) {
    let python = python();
    let file = dir.join("gen.py");
    std::fs::write(&file, script).unwrap();
    let out = Command::new(&python)
        .arg(&file)
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {SETUP_HINT}", python.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("No module named 'torch'"), "{} has no torch: {SETUP_HINT}\n{stderr}", python.display());
    assert!(out.status.success(), "fixture script failed ({}):\n{stderr}", out.status);
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// What python says a tensor is: dtype name, shape and raw little-endian bytes.
#[derive(Debug, PartialEq)]
pub struct Expected {
    pub dtype: String,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

pub fn read_manifest(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `tensors` maps each name to `{dtype, shape, hex}`.
pub fn expected_tensors(tensors: &serde_json::Value) -> BTreeMap<String, Expected> {
    tensors
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, t)| {
            let e = Expected {
                dtype: t["dtype"].as_str().unwrap().to_string(),
                shape: t["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect(),
                data: unhex(t["hex"].as_str().unwrap()),
            };
            (name.clone(), e)
        })
        .collect()
}

/// Python tensors as f32 values (for inputs and logits).
pub fn f32s(hex: &str) -> Vec<f32> {
    unhex(hex).chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}
