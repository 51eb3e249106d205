//! A standalone check of man-core on a GPU machine that has torch 2.11.0 but
//! no Rust toolchain: built here, copied there with scripts/gpu-check.sh.
//! Times, at 224 px and batch 128 by default, the image pipeline, warm-up
//! and co-division steps (each building the next batch's views while it
//! trains, as the package does) and a prediction pass, for a bounded number
//! of steps, in fp32 or bf16; on CUDA also the device memory the process
//! held at its peak (nvidia-smi); and projects 100 epochs at RAF-DB's size
//! from the rates. Prints a few lines to stderr and one JSON line to stdout.
//!
//! gpu_check [--device cuda|cpu|auto] [--precision fp32|bf16|auto] [--quick] [--no-pipeline]
//!           [--size PX] [--batch N] [--steps N] [--images N] [--threads N]
//!
//! libtorch is found through MAN_LIBTORCH (a torch or libtorch directory).
//! The binary only links libtorch_cpu's symbols, so CUDA's half of libtorch
//! would never load by itself: it is opened here, before the first torch
//! call, so that its CUDA hooks register.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use man_core::data::{Dataset, PipelineOptions, View};
use man_core::train::precision::PrecisionRequest;
use man_core::train::{
    view_tensor, AdamConfig, Backward, Batch, LossWeights, NextBatch, StepStats, Trainer, TrainerOptions,
};

/// The pipeline's batch: the GPU training batch.
const PIPELINE_BATCH: usize = 128;

/// RAF-DB's basic set: training and test images.
const RAFDB_TRAIN: f64 = 12_271.0;
const RAFDB_TEST: f64 = 3_068.0;
/// The paper's schedule: 100 epochs, the first 10 warm-up.
const EPOCHS: f64 = 100.0;
const WARMUP_EPOCHS: f64 = 10.0;

struct Args {
    device: String,
    precision: String,
    quick: bool,
    pipeline: bool,
    size: u32,
    batch: usize,
    steps: usize,
    images: usize,
    threads: i32,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        device: "auto".into(),
        precision: "fp32".into(),
        quick: false,
        pipeline: true,
        size: 224,
        batch: 0,
        steps: 0,
        images: 0,
        threads: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--device" => a.device = value("--device")?,
            "--precision" => a.precision = value("--precision")?,
            "--quick" => a.quick = true,
            "--no-pipeline" => a.pipeline = false,
            "--size" => a.size = value("--size")?.parse().map_err(|e| format!("--size: {e}"))?,
            "--batch" => a.batch = value("--batch")?.parse().map_err(|e| format!("--batch: {e}"))?,
            "--steps" => a.steps = value("--steps")?.parse().map_err(|e| format!("--steps: {e}"))?,
            "--images" => a.images = value("--images")?.parse().map_err(|e| format!("--images: {e}"))?,
            "--threads" => a.threads = value("--threads")?.parse().map_err(|e| format!("--threads: {e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

#[cfg(target_os = "linux")]
mod cuda_libs {
    use std::ffi::{c_char, c_int, c_void, CStr, CString};

    extern "C" {
        fn dlopen(filename: *const c_char, flag: c_int) -> *mut c_void;
        fn dlerror() -> *mut c_char;
    }
    const RTLD_NOW: c_int = 2;
    const RTLD_GLOBAL: c_int = 0x100;

    /// Opens libc10_cuda and libtorch_cuda from `$MAN_LIBTORCH/lib`, if
    /// present; returns what was opened, or the loader's error.
    pub fn open() -> Result<Vec<String>, String> {
        let Ok(dir) = std::env::var("MAN_LIBTORCH") else {
            return Ok(Vec::new());
        };
        let mut opened = Vec::new();
        for name in ["libc10_cuda.so", "libtorch_cuda.so"] {
            let path = std::path::Path::new(&dir).join("lib").join(name);
            if !path.exists() {
                continue;
            }
            let c = CString::new(path.display().to_string()).map_err(|e| e.to_string())?;
            // SAFETY: a NUL-terminated path; the handle is deliberately never
            // closed (the library must stay loaded for the whole process).
            let handle = unsafe { dlopen(c.as_ptr(), RTLD_NOW | RTLD_GLOBAL) };
            if handle.is_null() {
                // SAFETY: dlerror returns NULL or a NUL-terminated message owned by libc.
                let msg = unsafe {
                    let e = dlerror();
                    if e.is_null() {
                        "unknown error".to_string()
                    } else {
                        CStr::from_ptr(e).to_string_lossy().into_owned()
                    }
                };
                return Err(format!("cannot open {}: {msg}", path.display()));
            }
            opened.push(path.display().to_string());
        }
        Ok(opened)
    }
}

#[cfg(not(target_os = "linux"))]
mod cuda_libs {
    pub fn open() -> Result<Vec<String>, String> {
        Ok(Vec::new())
    }
}

/// The device memory in use, sampled every 100 ms by nvidia-smi while the
/// steps run: this process's own (CUDA context plus the blocks libtorch's
/// caching allocator holds, which is at least its peak of live tensors) when
/// nvidia-smi can see its pid, and the whole device's (in a container the
/// listed pids may be the host's).
struct DeviceMemoryWatch {
    children: Vec<std::process::Child>,
    readers: Vec<std::thread::JoinHandle<()>>,
    own: std::sync::Arc<std::sync::atomic::AtomicU64>,
    device: std::sync::Arc<std::sync::atomic::AtomicU64>,
    device_before: Option<u64>,
}

impl DeviceMemoryWatch {
    fn sampler(
        query: &str,
        on_line: impl Fn(&str) + Send + 'static,
    ) -> Result<(std::process::Child, std::thread::JoinHandle<()>), String> {
        use std::io::BufRead;
        let mut child = std::process::Command::new("nvidia-smi")
            .args([query, "--format=csv,noheader,nounits", "-lms", "100"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("nvidia-smi: {e}"))?;
        let out = child.stdout.take().ok_or("nvidia-smi: no stdout")?;
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                on_line(&line);
            }
        });
        Ok((child, reader))
    }

    fn start() -> Result<Self, String> {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::Arc;
        let before = std::process::Command::new("nvidia-smi")
            .args(["--query-gpu=memory.used", "--format=csv,noheader,nounits", "--id=0"])
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<u64>().ok());
        let (own, device) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let pid = std::process::id().to_string();
        let o = Arc::clone(&own);
        let (c1, r1) = Self::sampler("--query-compute-apps=pid,used_memory", move |line| {
            let mut parts = line.split(',').map(str::trim);
            if let (Some(p), Some(mib)) = (parts.next(), parts.next()) {
                if p == pid {
                    if let Ok(m) = mib.parse::<u64>() {
                        o.fetch_max(m, Ordering::Relaxed);
                    }
                }
            }
        })?;
        let d = Arc::clone(&device);
        let (c2, r2) = Self::sampler("--query-gpu=memory.used", move |line| {
            // One line per GPU: the first is the one the check runs on (cuda:0).
            if let Ok(m) = line.trim().parse::<u64>() {
                d.fetch_max(m, Ordering::Relaxed);
            }
        })?;
        Ok(DeviceMemoryWatch { children: vec![c1, c2], readers: vec![r1, r2], own, device, device_before: before })
    }

    fn stop(mut self) -> serde_json::Value {
        use std::sync::atomic::Ordering;
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let own = self.own.load(Ordering::Relaxed);
        let device = self.device.load(Ordering::Relaxed);
        serde_json::json!({
            "process_peak_mib": (own > 0).then_some(own),
            "device_peak_mib": (device > 0).then_some(device),
            "device_before_mib": self.device_before,
            "how": "nvidia-smi every 100 ms: process = CUDA context + libtorch's cached blocks; device = all processes on GPU 0",
        })
    }
}

/// 100×100 JPEGs (RAF-DB's size) of varied content, encoded in memory.
fn synthetic_jpegs(n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let k = i as u32;
            let img = image::RgbImage::from_fn(100, 100, |x, y| {
                let v = (x * 7 + y * 13 + k * 29) % 256;
                image::Rgb([v as u8, ((x * y + k) % 256) as u8, ((x + 2 * y + 3 * k) % 256) as u8])
            });
            let mut jpeg = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
                .expect("encode jpeg");
            (format!("synthetic-{i:05}.jpg"), jpeg)
        })
        .collect()
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    }
}

/// Median step time, images/s, and the addon's mean data / compute split.
fn step_json(batch: usize, times: Vec<f64>, stats: &[StepStats]) -> serde_json::Value {
    let n = stats.len().max(1) as f64;
    let ms = median(times);
    serde_json::json!({
        "steps": stats.len(),
        "ms_per_step": (ms * 10.0).round() / 10.0,
        "images_per_s": (batch as f64 * 1e3 / ms * 10.0).round() / 10.0,
        "data_ms": (stats.iter().map(|s| s.data_ms).sum::<f64>() / n * 100.0).round() / 100.0,
        "compute_ms": (stats.iter().map(|s| s.compute_ms).sum::<f64>() / n * 10.0).round() / 10.0,
    })
}

fn run(a: Args) -> Result<serde_json::Value, String> {
    let started = Instant::now();
    let opened = cuda_libs::open();
    let wants_cuda = a.device.starts_with("cuda");
    let opened = match opened {
        Ok(libs) => libs,
        Err(e) if wants_cuda => return Err(e),
        Err(e) => {
            eprintln!("gpu_check: {e} (continuing without CUDA)");
            Vec::new()
        }
    };
    let cuda = tch::Cuda::is_available();
    if wants_cuda && !cuda {
        return Err(format!(
            "--device {} was asked for but libtorch sees no CUDA device (MAN_LIBTORCH={}, opened: {:?})",
            a.device,
            std::env::var("MAN_LIBTORCH").unwrap_or_default(),
            opened
        ));
    }
    let on_gpu = wants_cuda || (a.device == "auto" && cuda);
    let small = a.quick && !on_gpu;
    let batch = if a.batch > 0 {
        a.batch
    } else if small {
        4
    } else {
        128
    };
    let steps = if a.steps > 0 {
        a.steps
    } else if small {
        2
    } else if a.quick {
        5
    } else {
        20
    };
    let images = if a.images > 0 {
        a.images
    } else if small {
        64
    } else {
        1024
    };
    if images < 2 * batch {
        return Err(format!("--images ({images}) must hold at least two batches of {batch}"));
    }

    eprintln!(
        "gpu_check: {images} synthetic images, {} px, batch {batch}, {steps} steps",
        a.size
    );
    let items = synthetic_jpegs(images);
    let opts = PipelineOptions {
        image_size: a.size,
        seed: 1,
        cache_bytes: 1 << 31,
        threads: 0,
    };
    let uncached = Dataset::from_buffers(
        items.clone(),
        PipelineOptions {
            cache_bytes: 0,
            ..opts.clone()
        },
    )
    .map_err(|e| e.to_string())?;
    let t = Instant::now();
    if let Some(f) = uncached.scan().first() {
        return Err(format!("cannot decode {}: {}", f.path, f.error));
    }
    let decode_per_s = images as f64 / t.elapsed().as_secs_f64();
    let ds = Dataset::from_buffers(items, opts).map_err(|e| e.to_string())?;
    let _ = ds.scan();

    // Batches of the training size (at most 128), into one reused buffer as
    // the trainer does; `weak_fresh_tensor` builds each batch the way steps
    // did before buffers were reused (a new Vec, then a copy into a new tensor).
    let pipe_batch = PIPELINE_BATCH.min(images);
    let all: Vec<u32> = (0..images as u32).collect();
    let done = (images / pipe_batch * pipe_batch) as f64;
    let mut buffer = vec![0f32; pipe_batch * ds.sample_len()];
    let mut pipeline = serde_json::Map::new();
    pipeline.insert("batch".into(), pipe_batch.into());
    pipeline.insert("decode_images_per_s".into(), decode_per_s.round().into());
    let views: &[(&str, View)] = if a.pipeline {
        &[("test", View::Test), ("weak", View::Weak), ("strong", View::Strong)]
    } else {
        &[]
    };
    for &(name, view) in views {
        let t = Instant::now();
        for (k, idx) in all.chunks_exact(pipe_batch).enumerate() {
            ds.batch_into(idx, view, k as u32, 0, &mut buffer)
                .map_err(|e| e.to_string())?;
        }
        pipeline.insert(
            format!("{name}_images_per_s"),
            (done / t.elapsed().as_secs_f64()).round().into(),
        );
    }
    if a.pipeline {
        let t = Instant::now();
        for (k, idx) in all.chunks_exact(pipe_batch).enumerate() {
            let views = view_tensor(&ds, idx, View::Weak, k as u32, 0).map_err(|e| e.to_string())?;
            std::hint::black_box(&views);
        }
        pipeline.insert(
            "weak_fresh_tensor_images_per_s".into(),
            (done / t.elapsed().as_secs_f64()).round().into(),
        );
    }

    let device = if on_gpu {
        if wants_cuda {
            a.device.clone()
        } else {
            "cuda".into()
        }
    } else {
        "cpu".into()
    };
    let watch = if on_gpu {
        match DeviceMemoryWatch::start() {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("gpu_check: device memory not sampled: {e}");
                None
            }
        }
    } else {
        None
    };
    let mut trainer = Trainer::new(&TrainerOptions {
        num_classes: 7,
        device,
        threads: a.threads,
        seed: 0,
        adam: AdamConfig::default(),
        precision: PrecisionRequest::parse(&a.precision).map_err(|e| e.to_string())?,
        backward: Backward::default(),
        mixed_precision: false,
    })
    .map_err(|e| e.to_string())?;
    let n = images as u32;
    let batch_at = |k: usize| -> Vec<u32> { (0..batch as u32).map(|i| (k as u32 * batch as u32 + i) % n).collect() };
    let labels: Vec<i32> = (0..batch as i32).map(|i| i % 7).collect();
    // 60% clean, 20% ambiguous, 20% noisy in every batch.
    let codes: Vec<u8> = (0..batch).map(|i| [0u8, 0, 0, 1, 2][i % 5]).collect();
    let w = LossWeights::new(0.5, 0.6, 1.0);

    let mut timed = |codiv: bool| -> Result<serde_json::Value, String> {
        eprintln!("gpu_check: {} steps", if codiv { "co-division" } else { "warm-up" });
        let (mut times, mut stats) = (Vec::new(), Vec::new());
        for k in 0..=steps {
            let (idx, next) = (batch_at(k), batch_at(k + 1));
            let t = Instant::now();
            let s = if codiv {
                let this = Batch { epoch: 11, indices: &idx, labels: &labels, codes: Some(&codes) };
                let ahead = NextBatch { indices: &next, codes: Some(&codes) };
                trainer.codivision_step(&ds, this, w, Some(ahead))
            } else {
                let this = Batch { epoch: 1, indices: &idx, labels: &labels, codes: None };
                trainer.warmup_step(&ds, this, Some(NextBatch { indices: &next, codes: None }))
            }
            .map_err(|e| e.to_string())?;
            if !s.loss.is_finite() {
                return Err(format!("step {k} gave a non-finite loss {}", s.loss));
            }
            // Step 0 warms up the allocator and kernels.
            if k > 0 {
                times.push(ms_since(t));
                stats.push(s);
            }
        }
        Ok(step_json(batch, times, &stats))
    };
    let warmup = timed(false)?;
    let codivision = timed(true)?;

    eprintln!("gpu_check: prediction pass");
    let predict_batch = if on_gpu { 512 } else { 32 };
    let predict_images = if small { 16 } else { images };
    trainer
        .predict(
            &ds,
            &all[..predict_batch.min(predict_images)],
            View::Test,
            1,
            predict_batch,
            false,
        )
        .map_err(|e| e.to_string())?;
    let t = Instant::now();
    let p = trainer
        .predict(&ds, &all[..predict_images], View::Test, 1, predict_batch, false)
        .map_err(|e| e.to_string())?;
    let predict_per_s = p.pred1.len() as f64 / t.elapsed().as_secs_f64();
    let device_memory = watch.map(DeviceMemoryWatch::stop);
    let rate = |v: &serde_json::Value| v["images_per_s"].as_f64().unwrap_or(f64::NAN);
    let (warm_s, codiv_s) = (RAFDB_TRAIN / rate(&warmup), RAFDB_TRAIN / rate(&codivision));
    let (predict_train_s, test_s) = (RAFDB_TRAIN / predict_per_s, RAFDB_TEST / predict_per_s);
    let total_s = WARMUP_EPOCHS * warm_s + (EPOCHS - WARMUP_EPOCHS) * (codiv_s + predict_train_s) + EPOCHS * test_s;
    let projection = serde_json::json!({
        "train_images": RAFDB_TRAIN,
        "test_images": RAFDB_TEST,
        "epochs": EPOCHS,
        "warmup_epochs": WARMUP_EPOCHS,
        "warmup_epoch_s": (warm_s * 10.0).round() / 10.0,
        "codivision_epoch_s": ((codiv_s + predict_train_s + test_s) * 10.0).round() / 10.0,
        "total_s": total_s.round(),
        "total_h": (total_s / 360.0).round() / 10.0,
        "how": "10 warm-up epochs + 90 co-division epochs (steps + a prediction pass over the training set) + a test pass per epoch, at this run's rates and its 60/20/20 subsets; checkpoints not included",
    });

    let info = man_core::runtime::runtime_info();
    Ok(serde_json::json!({
        "bench": "gpu_check",
        "device": trainer.device_name(),
        "precision": trainer.precision().name(),
        "cuda_available": cuda,
        "cuda_devices": info.cuda_device_count,
        "cuda_libraries_opened": opened,
        "torch": info.torch_version,
        "torch_threads": info.threads,
        "cores": std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1),
        "size": a.size,
        "batch": batch,
        "images": images,
        "pipeline": pipeline,
        "warmup": warmup,
        "codivision": codivision,
        "predict": { "images": predict_images, "batch": predict_batch, "images_per_s": (predict_per_s * 10.0).round() / 10.0 },
        "device_memory": device_memory,
        "projection_rafdb_100_epochs": projection,
        "wall_s": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    }))
}

fn main() {
    let result = parse_args().and_then(run);
    match result {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("gpu_check: FAILED: {e}");
            std::process::exit(1);
        }
    }
}
