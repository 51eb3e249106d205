//! A standalone check of man-fer's c10d shim for a machine with torch 2.11.0
//! and no Rust toolchain (built here, run there; scripts/dist-check.sh):
//!
//! 1. NCCL, a world of size 1 (TCPStore on 127.0.0.1): join, all-reduce,
//!    broadcast, all-gather and barrier on CUDA tensors; then two warm-up
//!    steps of a data-parallel trainer on CUDA over NCCL, which must equal a
//!    plain trainer's to the bit (an average over one rank is the gradient).
//! 2. Gloo on CUDA tensors (staged through the host), the same collectives.
//! 3. Gloo, a world of size 2: this binary started twice more (`--child`),
//!    CPU tensors, every rank's results compared.
//!
//! Prints one JSON object on stdout; exit status 0 when every check that
//! could run passed. Build with the `nccl` feature for parts 1 and 2.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use man_core::dist::{has_gloo, has_nccl, JoinOptions, ProcessGroup, ReduceOp, DEFAULT_BUCKET_BYTES};
use man_core::train::{AdamConfig, Trainer, TrainerOptions};
use tch::{Device, Kind, Tensor};

type Check = Result<String, String>;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").map(|l| l.local_addr().map(|a| a.port()).unwrap_or(29500)).unwrap_or(29500)
}

fn join(rank: usize, world_size: usize, port: u16, nccl: bool) -> Result<ProcessGroup, String> {
    ProcessGroup::join(&JoinOptions {
        master_addr: "127.0.0.1".into(),
        master_port: port,
        rank,
        world_size,
        local_rank: rank,
        timeout: Duration::from_secs(30),
        nccl,
    })
    .map_err(|e| e.to_string())
}

fn floats(t: &Tensor) -> Result<Vec<f32>, String> {
    Vec::<f32>::try_from(&t.to_device(Device::Cpu).to_kind(Kind::Float).flatten(0, -1)).map_err(|e| e.to_string())
}

/// The collectives on `device`, with results every rank can compare: rank r
/// contributes r+1, rank `world-1` is the broadcast root.
fn collectives(g: &ProcessGroup, device: Device) -> Result<Vec<f32>, String> {
    let e = |e: man_core::dist::DistError| e.to_string();
    let r = g.rank() as f32;
    let w = g.world_size();
    let opts = (Kind::Float, device);
    let summed = Tensor::from_slice(&[r + 1.0, 2.0 * (r + 1.0), -1.0]).to_device(device);
    let bucket2 = Tensor::ones([1000], opts) * f64::from(r + 1.0);
    g.all_reduce(&[summed.shallow_clone(), bucket2.shallow_clone()], ReduceOp::Sum).map_err(e)?;
    let root = w - 1;
    let cast = Tensor::from_slice(&[r * 10.0, 7.0]).to_device(device);
    g.broadcast(std::slice::from_ref(&cast), root).map_err(e)?;
    let gathered = g.all_gather(&Tensor::from_slice(&[r, r + 0.5]).to_device(device)).map_err(e)?;
    g.barrier().map_err(e)?;
    let mut out = floats(&summed)?;
    out.push(floats(&bucket2)?.iter().sum());
    out.extend(floats(&cast)?);
    out.extend(floats(&gathered)?);
    // What every rank must hold: Σ(r+1), 2Σ(r+1), -w, 1000Σ(r+1), 10·root, 7, then r, r+.5 for each r.
    let s: f32 = (1..=w).map(|k| k as f32).sum();
    let mut expected = vec![s, 2.0 * s, -(w as f32), 1000.0 * s, 10.0 * root as f32, 7.0];
    for k in 0..w {
        expected.extend([k as f32, k as f32 + 0.5]);
    }
    if out != expected {
        return Err(format!("rank {} got {out:?}, expected {expected:?}", g.rank()));
    }
    Ok(out)
}

fn timed(name: &str, f: impl FnOnce() -> Check) -> serde_json::Value {
    let t0 = Instant::now();
    let r = f();
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    match &r {
        Ok(d) => eprintln!("dist_check: {name}: ok ({ms:.0} ms) {d}"),
        Err(d) => eprintln!("dist_check: {name}: FAILED ({ms:.0} ms) {d}"),
    }
    serde_json::json!({ "name": name, "ok": r.is_ok(), "ms": ms.round(), "detail": r.unwrap_or_else(|e| e) })
}

fn trainer(device: &str) -> Result<Trainer, String> {
    Trainer::new(&TrainerOptions {
        num_classes: 7,
        device: device.into(),
        threads: 0,
        seed: 5,
        adam: AdamConfig::default(),
        mixed_precision: false,
        backward: man_core::train::Backward::default(),
        precision: man_core::train::precision::PrecisionRequest::Fp32,
    })
    .map_err(|e| e.to_string())
}

fn params(t: &Trainer) -> Result<Vec<Vec<f32>>, String> {
    t.adam().params().iter().map(|p| floats(&p.param)).collect()
}

/// Two warm-up steps of a world-1 data-parallel trainer over NCCL against a plain one.
fn nccl_trainer_check() -> Check {
    let g = join(0, 1, free_port(), true)?;
    let mut dp = trainer("cuda:0")?;
    dp.join_data_parallel(Arc::new(g), DEFAULT_BUCKET_BYTES).map_err(|e| e.to_string())?;
    let mut plain = trainer("cuda:0")?;
    for step in 0..2 {
        let xs = (Tensor::arange(8 * 3 * 64 * 64, (Kind::Float, Device::Cpu)) * (0.013 + step as f64 * 0.007)).sin().view([8, 3, 64, 64]);
        let labels = [0, 1, 2, 3, 4, 5, 6, 0];
        dp.warmup_step_tensors(&xs, &labels).map_err(|e| e.to_string())?;
        plain.warmup_step_tensors(&xs, &labels).map_err(|e| e.to_string())?;
    }
    if params(&dp)? != params(&plain)? {
        return Err("the data-parallel trainer's weights differ from the plain trainer's".into());
    }
    Ok(format!("{} gradient buckets, weights equal to a plain trainer's after 2 steps", dp.gradient_buckets()))
}

fn child(rank: usize, port: u16) -> i32 {
    match join(rank, 2, port, false).and_then(|g| collectives(&g, Device::Cpu)) {
        Ok(values) => {
            println!("{}", serde_json::json!({ "rank": rank, "values": values }));
            0
        }
        Err(e) => {
            eprintln!("dist_check child {rank}: {e}");
            1
        }
    }
}

fn gloo_two_processes() -> Check {
    let port = free_port();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let children: Vec<_> = (0..2)
        .map(|rank| {
            Command::new(&exe)
                .args(["--child", &rank.to_string(), &port.to_string()])
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let mut outputs = Vec::new();
    for c in children {
        let out = c.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("a child exited with {}", out.status));
        }
        outputs.push(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    let values: Vec<serde_json::Value> = outputs
        .iter()
        .map(|o| serde_json::from_str::<serde_json::Value>(o).map(|v| v["values"].clone()).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    if values[0] != values[1] {
        return Err(format!("ranks disagree: {outputs:?}"));
    }
    Ok(format!("2 processes agree: {}", values[0]))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        let rank = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(0);
        let port = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(0);
        std::process::exit(child(rank, port));
    }
    let cuda = tch::Cuda::is_available();
    let mut checks = Vec::new();
    if has_nccl() && cuda {
        checks.push(timed("nccl world 1: collectives on cuda:0", || {
            let g = join(0, 1, free_port(), true)?;
            collectives(&g, Device::Cuda(0)).map(|v| format!("{v:?}"))
        }));
        checks.push(timed("nccl world 1: data-parallel trainer steps on cuda:0", nccl_trainer_check));
    }
    if has_gloo() && cuda {
        checks.push(timed("gloo world 1: collectives on cuda:0 (staged through the host)", || {
            let g = join(0, 1, free_port(), false)?;
            collectives(&g, Device::Cuda(0)).map(|v| format!("{v:?}"))
        }));
    }
    if has_gloo() {
        checks.push(timed("gloo world 2: two processes on the cpu", gloo_two_processes));
    }
    let ran = checks.len();
    let ok = ran > 0 && checks.iter().all(|c| c["ok"] == serde_json::Value::Bool(true));
    let report = serde_json::json!({
        "torch": env!("MAN_TORCH_VERSION"),
        "cuda_available": cuda,
        "cuda_devices": tch::Cuda::device_count(),
        "built_with": { "gloo": has_gloo(), "nccl": has_nccl() },
        "nccl_exercised": has_nccl() && cuda,
        "checks": checks,
        "ok": ok,
    });
    println!("{report}");
    std::process::exit(if ok { 0 } else { 1 });
}
