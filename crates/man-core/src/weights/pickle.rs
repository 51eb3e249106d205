//! A pickle reader that never imports or calls anything: `GLOBAL` yields a
//! name, `REDUCE` builds only the few values a state dict is made of
//! (`OrderedDict`, tensors, parameters) and anything else becomes an opaque
//! value. That is what makes reading a checkpoint from the internet safe.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::DType;

/// Where a tensor's elements live: a storage of the checkpoint, seen from
/// `elem_offset` for `numel` elements (the legacy format has storage views).
#[derive(Debug)]
pub struct StorageRef {
    pub key: String,
    /// `Err(type name)` for storage types that `DType` cannot hold.
    pub dtype: Result<DType, String>,
    pub elem_offset: usize,
    pub numel: usize,
}

#[derive(Debug)]
pub struct TensorRef {
    pub storage: Rc<StorageRef>,
    pub offset: usize,
    pub size: Vec<usize>,
    pub stride: Vec<usize>,
}

pub type List = Rc<RefCell<Vec<Value>>>;
pub type Dict = Rc<RefCell<Vec<(Value, Value)>>>;

/// Containers are shared (`Rc`) because the memo aliases them: pickle
/// memoizes an empty dict first and fills it afterwards.
#[derive(Debug, Clone)]
pub enum Value {
    None,
    Bool(bool),
    Int(i128),
    /// Floats are never needed to find tensors; only their place in the stream.
    Float,
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Tuple(Rc<[Value]>),
    List(List),
    Dict(Dict),
    Global(Rc<(String, String)>),
    Storage(Rc<StorageRef>),
    Tensor(Rc<TensorRef>),
    /// Something we do not build (a module, an optimizer, a numpy scalar).
    Opaque(Rc<str>),
    /// A known constructor called with arguments we cannot make sense of:
    /// an error if a tensor is needed from it.
    Invalid(Rc<str>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(*b as i128),
            _ => None,
        }
    }

    pub fn as_usize(&self) -> Option<usize> {
        self.as_int().and_then(|i| usize::try_from(i).ok())
    }

    /// Tuples and lists alike, as pickle writes either for a sequence.
    pub fn items(&self) -> Option<Vec<Value>> {
        match self {
            Value::Tuple(t) => Some(t.to_vec()),
            Value::List(l) => Some(l.borrow().clone()),
            _ => None,
        }
    }

    pub fn global(&self) -> Option<(&str, &str)> {
        match self {
            Value::Global(g) => Some((&g.0, &g.1)),
            _ => None,
        }
    }

    /// A short description for error messages.
    pub fn describe(&self) -> String {
        match self {
            Value::None => "None".into(),
            Value::Bool(_) => "a bool".into(),
            Value::Int(_) => "an int".into(),
            Value::Float => "a float".into(),
            Value::Str(_) => "a string".into(),
            Value::Bytes(_) => "bytes".into(),
            Value::Tuple(_) => "a tuple".into(),
            Value::List(_) => "a list".into(),
            Value::Dict(_) => "a dict".into(),
            Value::Global(g) => format!("the name {}.{}", g.0, g.1),
            Value::Storage(_) => "a storage".into(),
            Value::Tensor(_) => "a tensor".into(),
            Value::Opaque(s) => format!("an object of {s}"),
            Value::Invalid(s) => format!("an unreadable value ({s})"),
        }
    }
}

/// Turns a persistent id (what `BINPERSID` pops) into a value.
pub type PersistentLoad<'a> = dyn FnMut(Value) -> Result<Value, String> + 'a;

/// Runs one pickle from `data[*pos..]` up to its `STOP`, leaving `*pos` just
/// after it (the legacy format is several pickles in a row).
pub fn unpickle(data: &[u8], pos: &mut usize, persistent_load: &mut PersistentLoad) -> Result<Value, String> {
    let mut vm = Vm { data, pos: *pos, stack: Vec::new(), marks: Vec::new(), memo: HashMap::new() };
    let value = vm.run(persistent_load).map_err(|e| format!("pickle at byte {}: {e}", vm.pos))?;
    *pos = vm.pos;
    Ok(value)
}

struct Vm<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
}

const MAX_STACK: usize = 1 << 20;

impl<'a> Vm<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or("unexpected end of data")?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn le<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn len_u32(&mut self) -> Result<usize, String> {
        Ok(u32::from_le_bytes(self.le()?) as usize)
    }

    fn len_u64(&mut self) -> Result<usize, String> {
        usize::try_from(u64::from_le_bytes(self.le()?)).map_err(|_| "length too large".to_string())
    }

    fn line(&mut self) -> Result<&'a str, String> {
        let rest = &self.data[self.pos..];
        let n = rest.iter().position(|&b| b == b'\n').ok_or("unterminated text line")?;
        let line = std::str::from_utf8(&rest[..n]).map_err(|_| "text line is not UTF-8")?;
        self.pos += n + 1;
        Ok(line)
    }

    fn push(&mut self, v: Value) -> Result<(), String> {
        if self.stack.len() >= MAX_STACK {
            return Err("stack too deep".into());
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self) -> Result<Value, String> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return Err("pop below a mark".into());
        }
        self.stack.pop().ok_or_else(|| "stack underflow".to_string())
    }

    fn top(&mut self) -> Result<&mut Value, String> {
        self.stack.last_mut().ok_or_else(|| "stack underflow".to_string())
    }

    fn pop_mark(&mut self) -> Result<Vec<Value>, String> {
        let m = self.marks.pop().ok_or("no mark on the stack")?;
        if m > self.stack.len() {
            return Err("mark above the stack".into());
        }
        Ok(self.stack.split_off(m))
    }

    fn memo_get(&self, i: u64) -> Result<Value, String> {
        self.memo.get(&i).cloned().ok_or_else(|| format!("memo key {i} not set"))
    }

    fn memo_put(&mut self, i: u64) -> Result<(), String> {
        let v = self.stack.last().cloned().ok_or("stack underflow")?;
        self.memo.insert(i, v);
        Ok(())
    }

    fn run(&mut self, persistent_load: &mut PersistentLoad) -> Result<Value, String> {
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    let proto = self.u8()?;
                    if proto > 5 {
                        return Err(format!("unsupported pickle protocol {proto}"));
                    }
                }
                0x95 => {
                    self.take(8)?;
                }
                b'.' => return self.pop(),
                b'(' => self.marks.push(self.stack.len()),
                b'0' => {
                    // On an empty frame POP drops the mark itself, as Python does.
                    if self.marks.last() == Some(&self.stack.len()) {
                        self.marks.pop();
                    } else {
                        self.pop()?;
                    }
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let v = self.top()?.clone();
                    self.push(v)?;
                }
                b'N' => self.push(Value::None)?,
                0x88 => self.push(Value::Bool(true))?,
                0x89 => self.push(Value::Bool(false))?,
                b'J' => {
                    let v = i32::from_le_bytes(self.le()?);
                    self.push(Value::Int(v.into()))?
                }
                b'K' => {
                    let v = self.u8()?;
                    self.push(Value::Int(v.into()))?
                }
                b'M' => {
                    let v = u16::from_le_bytes(self.le()?);
                    self.push(Value::Int(v.into()))?
                }
                0x8a => {
                    let n = self.u8()? as usize;
                    let v = self.long(n)?;
                    self.push(v)?
                }
                0x8b => {
                    let n = self.len_u32()?;
                    let v = self.long(n)?;
                    self.push(v)?
                }
                b'I' => {
                    let v = match self.line()? {
                        "00" => Value::Bool(false),
                        "01" => Value::Bool(true),
                        s => Value::Int(s.trim().parse().map_err(|_| format!("bad INT {s:?}"))?),
                    };
                    self.push(v)?
                }
                b'L' => {
                    let s = self.line()?;
                    let v = s.trim().trim_end_matches('L').parse().map_err(|_| format!("bad LONG {s:?}"))?;
                    self.push(Value::Int(v))?
                }
                b'G' => {
                    self.take(8)?;
                    self.push(Value::Float)?
                }
                b'F' => {
                    let s = self.line()?;
                    s.trim().parse::<f64>().map_err(|_| format!("bad FLOAT {s:?}"))?;
                    self.push(Value::Float)?
                }
                0x8c => {
                    let n = self.u8()? as usize;
                    self.unicode(n)?
                }
                b'X' => {
                    let n = self.len_u32()?;
                    self.unicode(n)?
                }
                0x8d => {
                    let n = self.len_u64()?;
                    self.unicode(n)?
                }
                // Python 2 `str`: keys of old checkpoints. Kept as text when
                // it is text, so that names compare equal.
                b'U' => {
                    let n = self.u8()? as usize;
                    self.binstring(n)?
                }
                b'T' => {
                    let n = self.len_u32()?;
                    self.binstring(n)?
                }
                b'C' => {
                    let n = self.u8()? as usize;
                    self.bytes(n)?
                }
                b'B' => {
                    let n = self.len_u32()?;
                    self.bytes(n)?
                }
                0x8e | 0x96 => {
                    let n = self.len_u64()?;
                    self.bytes(n)?
                }
                b'}' => self.push(Value::Dict(Rc::default()))?,
                b']' => self.push(Value::List(Rc::default()))?,
                b')' => self.push(Value::Tuple(Rc::from(Vec::new())))?,
                0x8f => self.push(Value::Opaque(Rc::from("builtins.set")))?,
                b'd' => {
                    let items = self.pop_mark()?;
                    let dict = Value::Dict(Rc::new(RefCell::new(pairs(items)?)));
                    self.push(dict)?
                }
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Value::List(Rc::new(RefCell::new(items))))?
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Value::Tuple(Rc::from(items)))?
                }
                0x91 => {
                    self.pop_mark()?;
                    self.push(Value::Opaque(Rc::from("builtins.frozenset")))?
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    if self.stack.len() < n || self.marks.last().is_some_and(|&m| m > self.stack.len() - n) {
                        return Err("stack underflow".into());
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.push(Value::Tuple(Rc::from(items)))?
                }
                b'q' => {
                    let i = self.u8()? as u64;
                    self.memo_put(i)?
                }
                b'r' => {
                    let i = u32::from_le_bytes(self.le()?) as u64;
                    self.memo_put(i)?
                }
                0x94 => {
                    let i = self.memo.len() as u64;
                    self.memo_put(i)?
                }
                b'p' => {
                    let s = self.line()?;
                    let i = s.trim().parse().map_err(|_| format!("bad PUT {s:?}"))?;
                    self.memo_put(i)?
                }
                b'h' => {
                    let i = self.u8()? as u64;
                    let v = self.memo_get(i)?;
                    self.push(v)?
                }
                b'j' => {
                    let i = u32::from_le_bytes(self.le()?) as u64;
                    let v = self.memo_get(i)?;
                    self.push(v)?
                }
                b'g' => {
                    let s = self.line()?;
                    let i = s.trim().parse().map_err(|_| format!("bad GET {s:?}"))?;
                    let v = self.memo_get(i)?;
                    self.push(v)?
                }
                b'a' => {
                    let v = self.pop()?;
                    append(self.top()?, vec![v])?
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    append(self.top()?, items)?
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    set_items(self.top()?, vec![(k, v)])?
                }
                b'u' => {
                    let items = pairs(self.pop_mark()?)?;
                    set_items(self.top()?, items)?
                }
                0x90 => {
                    // ADDITEMS to a set: sets are opaque, their items dropped.
                    self.pop_mark()?;
                }
                b'c' => {
                    let module = self.line()?.to_string();
                    let name = self.line()?.to_string();
                    self.push(Value::Global(Rc::new((module, name))))?
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module.as_str(), name.as_str()) {
                        (Some(m), Some(n)) => self.push(Value::Global(Rc::new((m.to_string(), n.to_string()))))?,
                        _ => return Err("STACK_GLOBAL needs two strings".into()),
                    }
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let v = reduce(&callable, &args);
                    self.push(v)?
                }
                0x81 => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let v = reduce(&cls, &args);
                    self.push(v)?
                }
                0x92 => {
                    let _kwargs = self.pop()?;
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let v = reduce(&cls, &args);
                    self.push(v)?
                }
                b'b' => {
                    // State of an object: the `_metadata` of a state dict's
                    // OrderedDict, or attributes of an opaque object.
                    self.pop()?;
                    self.top()?;
                }
                b'i' => {
                    let module = self.line()?.to_string();
                    let name = self.line()?.to_string();
                    self.pop_mark()?;
                    self.push(Value::Opaque(Rc::from(format!("{module}.{name}"))))?
                }
                b'o' => {
                    let mut items = self.pop_mark()?;
                    if items.is_empty() {
                        return Err("OBJ without a class".into());
                    }
                    let cls = items.remove(0);
                    self.push(reduce(&cls, &Value::Tuple(Rc::from(items))))?
                }
                b'Q' => {
                    let pid = self.pop()?;
                    let v = persistent_load(pid)?;
                    self.push(v)?
                }
                _ => return Err(format!("unsupported pickle opcode 0x{op:02x}")),
            }
        }
    }

    fn long(&mut self, n: usize) -> Result<Value, String> {
        let bytes = self.take(n)?;
        if n > 16 {
            return Ok(Value::Opaque(Rc::from("a very large int")));
        }
        let negative = bytes.last().is_some_and(|&b| b & 0x80 != 0);
        let mut buf = [if negative { 0xff } else { 0 }; 16];
        buf[..n].copy_from_slice(bytes);
        Ok(Value::Int(i128::from_le_bytes(buf)))
    }

    fn unicode(&mut self, n: usize) -> Result<(), String> {
        let bytes = self.take(n)?;
        let s = std::str::from_utf8(bytes).map_err(|_| "string is not UTF-8")?;
        self.push(Value::str(s))
    }

    fn binstring(&mut self, n: usize) -> Result<(), String> {
        let bytes = self.take(n)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => self.push(Value::str(s)),
            Err(_) => self.push(Value::Bytes(Rc::from(bytes))),
        }
    }

    fn bytes(&mut self, n: usize) -> Result<(), String> {
        let bytes = self.take(n)?;
        self.push(Value::Bytes(Rc::from(bytes)))
    }
}

fn pairs(items: Vec<Value>) -> Result<Vec<(Value, Value)>, String> {
    if items.len() % 2 != 0 {
        return Err("odd number of items for a dict".into());
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Ok(out)
}

fn append(target: &mut Value, items: Vec<Value>) -> Result<(), String> {
    match target {
        Value::List(l) => {
            l.borrow_mut().extend(items);
            Ok(())
        }
        // Appending to something we do not model (a deque, a custom list).
        Value::Opaque(_) | Value::Invalid(_) => Ok(()),
        other => Err(format!("APPEND to {}", other.describe())),
    }
}

fn set_items(target: &mut Value, items: Vec<(Value, Value)>) -> Result<(), String> {
    match target {
        Value::Dict(d) => {
            let mut d = d.borrow_mut();
            for (k, v) in items {
                // A later value for the same key replaces the earlier one, as in Python.
                match d.iter_mut().find(|(old, _)| same_key(old, &k)) {
                    Some(slot) => slot.1 = v,
                    None => d.push((k, v)),
                }
            }
            Ok(())
        }
        Value::Opaque(_) | Value::Invalid(_) => Ok(()),
        other => Err(format!("SETITEM on {}", other.describe())),
    }
}

fn same_key(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        _ => false,
    }
}

/// What calling `callable(*args)` would give, for the callables a state dict
/// needs; anything else is opaque and nothing is ever run.
fn reduce(callable: &Value, args: &Value) -> Value {
    let Some((module, name)) = callable.global() else {
        return Value::Opaque(Rc::from("an unknown class"));
    };
    let args = args.items().unwrap_or_default();
    match (module, name) {
        ("collections", "OrderedDict") | ("builtins" | "__builtin__", "dict") => {
            let mut items = Vec::new();
            if let Some(seq) = args.first().and_then(Value::items) {
                for pair in seq {
                    match pair.items().as_deref() {
                        Some([k, v]) => items.push((k.clone(), v.clone())),
                        _ => return Value::Invalid(Rc::from("OrderedDict item is not a pair")),
                    }
                }
            }
            Value::Dict(Rc::new(RefCell::new(items)))
        }
        ("torch._utils", "_rebuild_tensor_v2" | "_rebuild_tensor") => rebuild_tensor(&args),
        ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state")
        | ("torch.nn.parameter", "Parameter") => match args.first() {
            Some(t @ Value::Tensor(_)) => t.clone(),
            Some(Value::Invalid(why)) => Value::Invalid(why.clone()),
            _ => Value::Invalid(Rc::from("a parameter without tensor data")),
        },
        ("torch._tensor" | "torch.tensor", "_rebuild_from_type_v2") => match args.as_slice() {
            [func, _new_type, inner, ..] => reduce(func, inner),
            _ => Value::Invalid(Rc::from("_rebuild_from_type_v2 with too few arguments")),
        },
        ("torch", "Size") => match args.first().and_then(Value::items) {
            Some(dims) => Value::Tuple(Rc::from(dims)),
            None => Value::Invalid(Rc::from("torch.Size without dimensions")),
        },
        ("_codecs", "encode") => match args.first().and_then(Value::as_str) {
            // Python 3 pickles `bytes` at protocol 2 as encode(text, 'latin1').
            Some(s) => Value::Bytes(s.chars().map(|c| c as u32 as u8).collect()),
            None => Value::Invalid(Rc::from("_codecs.encode without text")),
        },
        _ => Value::Opaque(Rc::from(format!("{module}.{name}"))),
    }
}

/// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
fn rebuild_tensor(args: &[Value]) -> Value {
    let built = (|| {
        let [storage, offset, size, stride, ..] = args else {
            return Err("too few arguments".to_string());
        };
        let Value::Storage(storage) = storage else {
            return Err(format!("storage argument is {}", storage.describe()));
        };
        let offset = offset.as_usize().ok_or("storage offset is not a non-negative int")?;
        let dims = |v: &Value, what: &str| -> Result<Vec<usize>, String> {
            v.items()
                .ok_or_else(|| format!("{what} is not a tuple"))?
                .iter()
                .map(|d| d.as_usize().ok_or_else(|| format!("{what} has a non-integer or negative entry")))
                .collect()
        };
        let size = dims(size, "size")?;
        let stride = dims(stride, "stride")?;
        if size.len() != stride.len() {
            return Err(format!("size has {} dimensions but stride has {}", size.len(), stride.len()));
        }
        Ok(TensorRef { storage: storage.clone(), offset, size, stride })
    })();
    match built {
        Ok(t) => Value::Tensor(Rc::new(t)),
        Err(why) => Value::Invalid(Rc::from(format!("_rebuild_tensor: {why}"))),
    }
}

/// Element type of a `torch.*Storage` class or a `torch.<dtype>` name.
pub fn storage_dtype(module: &str, name: &str) -> Result<DType, String> {
    let dtype = match (module, name) {
        ("torch", "FloatStorage" | "float32" | "float") => DType::F32,
        ("torch", "DoubleStorage" | "float64" | "double") => DType::F64,
        ("torch", "HalfStorage" | "float16" | "half") => DType::F16,
        ("torch", "BFloat16Storage" | "bfloat16") => DType::BF16,
        ("torch", "LongStorage" | "int64" | "long") => DType::I64,
        ("torch", "IntStorage" | "int32" | "int") => DType::I32,
        ("torch", "ByteStorage" | "uint8") => DType::U8,
        ("torch", "BoolStorage" | "bool") => DType::Bool,
        ("torch" | "torch.storage", "UntypedStorage") => DType::U8,
        // Legacy files saved from the GPU name the CUDA storage classes.
        ("torch.cuda", _) if name.ends_with("Storage") => {
            return storage_dtype("torch", name).map_err(|_| format!("{module}.{name}"))
        }
        _ => return Err(format!("{module}.{name}")),
    };
    Ok(dtype)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(bytes: &[u8]) -> Result<Value, String> {
        let mut pos = 0;
        unpickle(bytes, &mut pos, &mut |_| Err("no persistent ids here".to_string()))
    }

    #[test]
    fn a_memoized_dict_filled_later_is_seen_filled_through_the_memo() {
        // [d] with d memoized empty, then fetched from the memo and given k=7.
        let bytes = b"\x80\x02]q\x00}q\x01ah\x01X\x01\x00\x00\x00kK\x07s0.";
        let Value::List(list) = load(bytes).unwrap() else { panic!("not a list") };
        let Value::Dict(d) = &list.borrow()[0] else { panic!("not a dict") };
        let d = d.borrow();
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].0.as_str(), d[0].1.as_int()), (Some("k"), Some(7)));
    }

    #[test]
    fn a_call_of_an_unknown_global_is_opaque_and_runs_nothing() {
        let bytes = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.";
        match load(bytes).unwrap() {
            Value::Opaque(name) => assert_eq!(&*name, "os.system"),
            other => panic!("got {other:?}"),
        }
    }

    #[test]
    fn ints_of_every_width_decode_with_their_sign() {
        let bytes = b"\x80\x02(\x8a\x01\xffJ\xfe\xff\xff\xffM\x34\x12K\x05\x8a\x00t.";
        let items = load(bytes).unwrap().items().unwrap();
        let ints: Vec<i128> = items.iter().map(|v| v.as_int().unwrap()).collect();
        assert_eq!(ints, vec![-1, -2, 0x1234, 5, 0]);
    }

    #[test]
    fn every_truncation_of_a_pickle_is_an_error() {
        let bytes =
            b"\x80\x02}q\x00(X\x01\x00\x00\x00a]q\x01(K\x01G?\xf0\x00\x00\x00\x00\x00\x00eX\x01\x00\x00\x00b\x88u.";
        assert!(load(bytes).is_ok());
        for len in 0..bytes.len() {
            assert!(load(&bytes[..len]).is_err(), "prefix of {len} bytes was accepted");
        }
    }

    #[test]
    fn stack_and_mark_misuse_is_an_error() {
        for bytes in
            [&b"\x80\x02a."[..], b"\x80\x02(u.", b"\x80\x02K\x01(K\x02\x86.", b"\x80\x02h\x05.", b"\x80\x02\xff."]
        {
            assert!(load(bytes).is_err(), "{bytes:?} was accepted");
        }
    }
}
