//! From a checkpoint's object tree to named contiguous tensors: unwrap the
//! usual training-script wrappers, flatten nested dicts, drop non-tensors,
//! and copy each (possibly strided, offset) view out of its storage.

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

use super::pickle::{TensorRef, Value};
use super::torch_file::TorchFile;
use super::{strip_module_prefix, RawTensor};

/// Keys under which training scripts keep the state dict, in order of preference.
const WRAPPERS: [&str; 5] = ["state_dict", "model_state_dict", "state_dict_ema", "model", "net"];
const MAX_DEPTH: usize = 32;

/// Every tensor of the file, named as in the (unwrapped) state dict.
/// `max_bytes` bounds what expanded (stride-0) tensors may grow to.
pub fn tensors(file: &mut TorchFile, max_bytes: usize) -> Result<Vec<RawTensor>, String> {
    let state = unwrap(&file.root);
    let mut named = Vec::new();
    match &state {
        Value::Dict(_) => flatten(&state, "", 0, &mut named)?,
        other => return Err(no_tensors(other, file.hint)),
    }
    if named.is_empty() {
        return Err(no_tensors(&state, file.hint));
    }
    let mut cache: HashMap<String, Cow<[u8]>> = HashMap::new();
    let mut out = Vec::with_capacity(named.len());
    for (name, t) in named {
        let name = strip_module_prefix(&name).to_string();
        let key = &t.storage.key;
        if !cache.contains_key(key) {
            let elem = t.storage.dtype.as_ref().map_or(1, |d| d.size()) as u64;
            let declared = (t.storage.elem_offset as u64).saturating_add(t.storage.numel as u64).saturating_mul(elem);
            let bytes = file.storage(key, declared).map_err(|e| format!("tensor {name}: {e}"))?;
            cache.insert(key.clone(), bytes);
        }
        let data = materialize(&name, &t, &cache[key], file.big_endian, max_bytes)?;
        out.push(data);
    }
    Ok(out)
}

fn no_tensors(state: &Value, hint: Option<&str>) -> String {
    let mut msg = format!("no tensors found (the file holds {}", state.describe());
    // `{'model': model, 'epoch': n}`: say what the wrapper holds.
    let wrapped = WRAPPERS.iter().find_map(|w| dict_get(state, w).map(|v| (w, v)));
    if let Some((key, value)) = &wrapped {
        msg.push_str(&format!(" whose '{key}' is {}", value.describe()));
    }
    msg.push(')');
    let opaque = matches!(state, Value::Opaque(_)) || matches!(wrapped, Some((_, Value::Opaque(_))));
    if let Some(hint) = hint {
        msg.push_str("; ");
        msg.push_str(hint);
    } else if opaque {
        msg.push_str("; a pickled model object cannot be read without Python: save model.state_dict() instead");
    }
    msg
}

fn dict_get(dict: &Value, key: &str) -> Option<Value> {
    let Value::Dict(d) = dict else { return None };
    let d = d.borrow();
    d.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v.clone())
}

fn unwrap(root: &Value) -> Value {
    let mut state = root.clone();
    for _ in 0..MAX_DEPTH {
        let inner = WRAPPERS.iter().find_map(|w| dict_get(&state, w).filter(|v| matches!(v, Value::Dict(_))));
        match inner {
            Some(v) => state = v,
            None => break,
        }
    }
    state
}

fn flatten(dict: &Value, prefix: &str, depth: usize, out: &mut Vec<(String, Rc<TensorRef>)>) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("dicts nested deeper than {MAX_DEPTH} levels at {prefix}"));
    }
    let Value::Dict(d) = dict else { return Ok(()) };
    let entries = d.borrow().clone();
    for (k, v) in entries {
        let key = match &k {
            Value::Int(i) => i.to_string(),
            other => match other.as_str() {
                Some(s) => s.to_string(),
                None => continue,
            },
        };
        let name = format!("{prefix}{key}");
        match v {
            Value::Tensor(t) => out.push((name, t)),
            Value::Dict(_) => flatten(&v, &format!("{name}."), depth + 1, out)?,
            Value::Invalid(why) => return Err(format!("tensor {name}: {why}")),
            _ => {}
        }
    }
    Ok(())
}

/// A contiguous row-major copy of a tensor view, little-endian.
fn materialize(name: &str, t: &TensorRef, storage: &[u8], swap: bool, max_bytes: usize) -> Result<RawTensor, String> {
    let s = &t.storage;
    let dtype = s.dtype.clone().map_err(|ty| format!("tensor {name}: unsupported storage type {ty}"))?;
    let es = dtype.size();
    let view = s
        .elem_offset
        .checked_add(s.numel)
        .and_then(|end| storage.get(s.elem_offset.checked_mul(es)?..end.checked_mul(es)?))
        .ok_or_else(|| {
            format!(
                "tensor {name}: storage {} has {} bytes, fewer than its {} elements of {es} bytes declared",
                s.key,
                storage.len(),
                s.elem_offset.saturating_add(s.numel)
            )
        })?;
    let too_big = || format!("tensor {name}: shape {:?} is too large", t.size);
    let numel = t.size.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(too_big)?;
    let nbytes = numel.checked_mul(es).filter(|&n| n <= max_bytes).ok_or_else(too_big)?;
    let mut data = Vec::with_capacity(nbytes);
    if numel > 0 {
        let last =
            t.size.iter().zip(&t.stride).try_fold(t.offset, |acc, (&d, &st)| acc.checked_add((d - 1).checked_mul(st)?));
        if last.is_none_or(|l| l >= s.numel) {
            return Err(format!(
                "tensor {name}: view (offset {}, size {:?}, stride {:?}) reaches past its storage of {} elements",
                t.offset, t.size, t.stride, s.numel
            ));
        }
        copy_strided(t, view, es, &mut data);
    }
    if swap && es > 1 {
        data.chunks_exact_mut(es).for_each(<[u8]>::reverse);
    }
    Ok(RawTensor { name: name.to_string(), dtype, shape: t.size.clone(), data })
}

/// Bounds were checked by the caller: every index stays inside `view`.
fn copy_strided(t: &TensorRef, view: &[u8], es: usize, out: &mut Vec<u8>) {
    // Dimensions of size 1 never move the index; dropping them also keeps
    // the loop below short whatever the file declares.
    let mut dims: Vec<(usize, usize)> = Vec::with_capacity(t.size.len());
    for (d, st) in t.size.iter().copied().zip(t.stride.iter().copied()).filter(|&(d, _)| d != 1) {
        // Merging dims that are contiguous with each other turns an ordinary
        // tensor into a single run, one copy.
        match dims.last_mut() {
            Some(outer) if outer.1 == d * st => *outer = (outer.0 * d, st),
            _ => dims.push((d, st)),
        }
    }
    let (outer, run) = match dims.split_last() {
        Some((&(d, 1), rest)) => (rest, d),
        _ => (&dims[..], 1),
    };
    let mut index = vec![0usize; outer.len()];
    loop {
        let base = t.offset + index.iter().zip(outer).map(|(&i, &(_, st))| i * st).sum::<usize>();
        out.extend_from_slice(&view[base * es..(base + run) * es]);
        let mut d = outer.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            index[d] += 1;
            if index[d] < outer[d].0 {
                break;
            }
            index[d] = 0;
        }
    }
}
