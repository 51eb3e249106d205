//! The two containers of `torch.save`: the zip archive (PyTorch >= 1.6) and
//! the legacy stream of pickles followed by raw storages. Both come out as an
//! object tree plus a way to fetch a storage's bytes by key.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::rc::Rc;

use zip::ZipArchive;

use super::pickle::{storage_dtype, unpickle, StorageRef, Value};
use super::{DType, MAX_ENTRY_BYTES};
use crate::files::format_bytes;

pub struct TorchFile<'a> {
    pub root: Value,
    /// Storages were written most-significant byte first.
    pub big_endian: bool,
    /// Said when no tensors are found, e.g. for a TorchScript archive.
    pub hint: Option<&'static str>,
    storages: Storages<'a>,
}

enum Storages<'a> {
    Zip { archive: ZipArchive<Cursor<&'a [u8]>>, prefix: String, file: &'a [u8] },
    Legacy(HashMap<String, &'a [u8]>),
}

impl<'a> TorchFile<'a> {
    /// The bytes of storage `key`, whole (views are applied by the caller).
    /// `declared` is the storage's size in bytes as the pickle gives it: a
    /// compressed entry is never inflated past it (nor past MAX_ENTRY_BYTES).
    pub fn storage(&mut self, key: &str, declared: u64) -> Result<Cow<'a, [u8]>, String> {
        match &mut self.storages {
            Storages::Legacy(map) => {
                map.get(key).map(|b| Cow::Borrowed(*b)).ok_or_else(|| format!("storage {key} is not in the file"))
            }
            Storages::Zip { archive, prefix, file } => {
                let name = format!("{prefix}data/{key}");
                let mut entry = archive.by_name(&name).map_err(|e| format!("storage {name}: {e}"))?;
                // torch stores storages uncompressed: borrow them from the file.
                if entry.compression() == zip::CompressionMethod::Stored {
                    let start = usize::try_from(entry.data_start()).ok();
                    let end =
                        start.zip(usize::try_from(entry.compressed_size()).ok()).and_then(|(s, n)| s.checked_add(n));
                    if let Some(bytes) = start.zip(end).and_then(|(s, e)| file.get(s..e)) {
                        return Ok(Cow::Borrowed(bytes));
                    }
                    return Err(format!("storage {name} reaches past the end of the file"));
                }
                if declared > MAX_ENTRY_BYTES {
                    return Err(format!(
                        "storage {name} declares {}, over the limit of {} per entry",
                        format_bytes(declared),
                        format_bytes(MAX_ENTRY_BYTES)
                    ));
                }
                let out = read_bounded(&mut entry, &name, declared)?;
                Ok(Cow::Owned(out))
            }
        }
    }
}

/// Inflates a zip entry, refusing one that holds more than `limit` bytes
/// (whatever its header claims) before it can fill memory.
fn read_bounded(entry: &mut zip::read::ZipFile<'_>, name: &str, limit: u64) -> Result<Vec<u8>, String> {
    let inflates_past = || {
        format!("{name} inflates past {}, more than it declares (a zip bomb?): refused", format_bytes(limit))
    };
    if entry.size() > limit {
        return Err(inflates_past());
    }
    let mut out = Vec::with_capacity(entry.size() as usize);
    entry.take(limit.saturating_add(1)).read_to_end(&mut out).map_err(|e| format!("{name}: {e}"))?;
    if out.len() as u64 > limit {
        return Err(inflates_past());
    }
    Ok(out)
}

pub fn read_zip(bytes: &[u8]) -> Result<TorchFile<'_>, String> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a readable zip archive: {e}"))?;
    let pkl = archive
        .file_names()
        .filter(|n| *n == "data.pkl" || n.ends_with("/data.pkl"))
        .min_by_key(|n| n.len())
        .map(str::to_string)
        .ok_or("zip archive without a data.pkl: not a torch.save file")?;
    let prefix = pkl[..pkl.len() - "data.pkl".len()].to_string();
    let pickle = read_entry(&mut archive, &pkl)?;
    let big_endian = match archive.by_name(&format!("{prefix}byteorder")) {
        Ok(entry) => {
            let mut s = String::new();
            // "little" or "big": a longer entry is not a byte order.
            entry.take(64).read_to_string(&mut s).map_err(|e| format!("{prefix}byteorder: {e}"))?;
            match s.trim() {
                "little" => false,
                "big" => true,
                other => return Err(format!("{prefix}byteorder says {other:?}")),
            }
        }
        Err(_) => false,
    };
    let hint = archive
        .file_names()
        .any(|n| n == format!("{prefix}constants.pkl"))
        .then_some("it is a TorchScript archive (torch.jit.save); save model.state_dict() with torch.save instead");
    let mut pos = 0;
    let root = unpickle(&pickle, &mut pos, &mut zip_persistent_load).map_err(|e| format!("{pkl}: {e}"))?;
    Ok(TorchFile { root, big_endian, hint, storages: Storages::Zip { archive, prefix, file: bytes } })
}

fn read_entry(archive: &mut ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<Vec<u8>, String> {
    let mut entry = archive.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    read_bounded(&mut entry, name, MAX_ENTRY_BYTES)
}

/// `('storage', storage_type, key, location, numel)`.
fn zip_persistent_load(pid: Value) -> Result<Value, String> {
    let items = pid.items().ok_or_else(|| format!("persistent id is {}", pid.describe()))?;
    match items.as_slice() {
        [kind, storage_type, key, _location, numel, rest @ ..] if kind.as_str() == Some("storage") => {
            let key = key_string(key)?;
            let numel = numel.as_usize().ok_or("storage size is not a non-negative int")?;
            let mut dtype = type_of(storage_type);
            // An untyped storage may come with its dtype as an extra field.
            if dtype == Ok(DType::U8) {
                if let Some(d) = rest.iter().find_map(|v| v.global().and_then(|(m, n)| storage_dtype(m, n).ok())) {
                    dtype = Ok(d);
                }
            }
            Ok(Value::Storage(Rc::new(StorageRef { key, dtype, elem_offset: 0, numel })))
        }
        _ => Ok(Value::Opaque(Rc::from("a persistent object that is not a storage"))),
    }
}

fn type_of(storage_type: &Value) -> Result<DType, String> {
    match storage_type.global() {
        Some((m, n)) => storage_dtype(m, n),
        None => Err(storage_type.describe()),
    }
}

fn key_string(key: &Value) -> Result<String, String> {
    match key {
        Value::Int(i) => Ok(i.to_string()),
        other => other.as_str().map(str::to_string).ok_or_else(|| format!("storage key is {}", other.describe())),
    }
}

const LEGACY_MAGIC: i128 = 0x1950a86a20f9469cfc6c;
const LEGACY_PROTOCOL: i128 = 1001;

pub fn read_legacy(bytes: &[u8]) -> Result<TorchFile<'_>, String> {
    let mut pos = 0;
    let mut no_persistent = |_: Value| Err::<Value, _>("unexpected persistent id".to_string());
    let magic = unpickle(bytes, &mut pos, &mut no_persistent)?;
    if magic.as_int() != Some(LEGACY_MAGIC) {
        return Err(format!("a pickle of {}, not a torch.save file (no torch magic number)", magic.describe()));
    }
    let protocol = unpickle(bytes, &mut pos, &mut no_persistent)?;
    if protocol.as_int() != Some(LEGACY_PROTOCOL) {
        return Err(format!("unsupported legacy torch.save protocol ({})", protocol.describe()));
    }
    let _sys_info = unpickle(bytes, &mut pos, &mut no_persistent)?;

    let mut declared: HashMap<String, Result<DType, String>> = HashMap::new();
    let mut persistent_load = |pid: Value| legacy_persistent_load(pid, &mut declared);
    let root = unpickle(bytes, &mut pos, &mut persistent_load)?;

    let keys = unpickle(bytes, &mut pos, &mut no_persistent)?;
    let keys = keys.items().ok_or_else(|| format!("storage key list is {}", keys.describe()))?;
    let mut storages = HashMap::new();
    for key in keys {
        let key = key_string(&key)?;
        let dtype = declared.get(&key).ok_or_else(|| format!("storage {key} is listed but never used"))?;
        let elem_size = match dtype {
            Ok(d) => d.size(),
            Err(name) => foreign_element_size(name).ok_or_else(|| format!("unsupported storage type {name}"))?,
        };
        let count = bytes
            .get(pos..pos + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .ok_or_else(|| format!("file ends before storage {key}"))?;
        pos += 8;
        let len = usize::try_from(count).ok().and_then(|c| c.checked_mul(elem_size));
        let end = len.and_then(|l| pos.checked_add(l)).filter(|&e| e <= bytes.len()).ok_or_else(|| {
            format!("file ends inside storage {key} ({count} elements of {elem_size} bytes declared)")
        })?;
        storages.insert(key, &bytes[pos..end]);
        pos = end;
    }
    Ok(TorchFile { root, big_endian: false, hint: None, storages: Storages::Legacy(storages) })
}

/// `('storage', storage_type, root_key, location, numel, view_metadata)`,
/// where a view is `(view_key, offset, numel)` into the root storage.
fn legacy_persistent_load(pid: Value, declared: &mut HashMap<String, Result<DType, String>>) -> Result<Value, String> {
    let items = pid.items().ok_or_else(|| format!("persistent id is {}", pid.describe()))?;
    match items.as_slice() {
        [kind, storage_type, key, _location, numel, view, ..] if kind.as_str() == Some("storage") => {
            let key = key_string(key)?;
            let numel = numel.as_usize().ok_or("storage size is not a non-negative int")?;
            let dtype = type_of(storage_type);
            declared.insert(key.clone(), dtype.clone());
            let storage = match view.items().as_deref() {
                Some([_view_key, offset, view_numel]) => StorageRef {
                    key,
                    dtype,
                    elem_offset: offset.as_usize().ok_or("storage view offset is not a non-negative int")?,
                    numel: view_numel.as_usize().ok_or("storage view size is not a non-negative int")?,
                },
                _ => StorageRef { key, dtype, elem_offset: 0, numel },
            };
            Ok(Value::Storage(Rc::new(storage)))
        }
        // Whole-model pickles name each module class this way, with its source.
        [kind, class, ..] if kind.as_str() == Some("module") && class.global().is_some() => Ok(class.clone()),
        _ => Ok(Value::Opaque(Rc::from("a persistent object that is not a storage"))),
    }
}

/// Element sizes of storage types `DType` does not hold, so that a legacy
/// file can be walked past them.
fn foreign_element_size(type_name: &str) -> Option<usize> {
    let name = type_name.rsplit('.').next()?;
    Some(match name {
        "CharStorage" | "QInt8Storage" | "QUInt8Storage" | "QUInt4x2Storage" | "QUInt2x4Storage" => 1,
        "ShortStorage" => 2,
        "QInt32Storage" => 4,
        "ComplexFloatStorage" => 8,
        "ComplexDoubleStorage" => 16,
        _ => return None,
    })
}
