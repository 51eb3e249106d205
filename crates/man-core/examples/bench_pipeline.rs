//! Throughput of the image pipeline on synthetic 100x100 JPEGs (RAF-DB's
//! size): decode from disk, then cache-hit views at 112 and 224 px, on one
//! thread and on all. Prints a table and one JSON line.
//!
//! cargo run --release --example bench_pipeline -p man-core [-- N_IMAGES]
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use man_core::data::{Dataset, PipelineOptions, View};

const BATCH: usize = 64;

/// case, output size (0: not applicable), threads, (images/s, images/CPU-s)
type Row = (String, u32, usize, (f64, Option<f64>));
const MIN_TIME: Duration = Duration::from_millis(800);

fn synthetic_jpegs(dir: &std::path::Path, n: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let img = image::RgbImage::from_fn(100, 100, |x, y| {
                let v = (x * 7 + y * 13 + i as u32 * 29) % 256;
                image::Rgb([v as u8, ((x * y) % 256) as u8, ((x + 2 * y + i as u32) % 256) as u8])
            });
            let path = dir.join(format!("{i:05}.jpg"));
            img.save(&path).expect("write synthetic jpeg");
            path
        })
        .collect()
}

/// CPU seconds used by this process so far (all threads), from
/// /proc/self/stat; None where that is unavailable. On a shared machine wall
/// time undercounts what the pipeline can do, CPU time does not.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on every Linux ABI
}

/// Runs `f` (which processes `per_call` images) until MIN_TIME has passed;
/// returns images per wall second and per CPU second.
fn throughput(per_call: usize, mut f: impl FnMut(u32)) -> (f64, Option<f64>) {
    f(0); // warm-up: threads, scratch buffers, cache
    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    let mut calls = 0u32;
    while start.elapsed() < MIN_TIME {
        calls += 1;
        f(calls);
    }
    let images = (calls as usize * per_call) as f64;
    let cpu = cpu_start.zip(cpu_seconds()).map(|(a, b)| b - a).filter(|&c| c > 0.0);
    (images / start.elapsed().as_secs_f64(), cpu.map(|c| images / c))
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(512);
    let dir = std::env::temp_dir().join(format!("man-bench-pipeline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let paths = synthetic_jpegs(&dir, n);
    let all_threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut rows: Vec<Row> = Vec::new();

    for threads in [1, all_threads] {
        let opts = PipelineOptions { image_size: 112, seed: 1, cache_bytes: 0, threads };
        let ds = Dataset::from_paths(paths.clone(), opts).expect("dataset");
        let ips = throughput(n, |_| assert!(ds.scan().is_empty()));
        rows.push(("decode (disk, no cache)".into(), 0, ds.threads(), ips));
    }
    for size in [112u32, 224] {
        for threads in [1, all_threads] {
            let opts = PipelineOptions { image_size: size, seed: 1, cache_bytes: 1 << 30, threads };
            let ds = Dataset::from_paths(paths.clone(), opts).expect("dataset");
            assert!(ds.scan().is_empty());
            let batches: Vec<Vec<u32>> = (0..n as u32).collect::<Vec<_>>().chunks(BATCH).map(<[u32]>::to_vec).collect();
            // Views into one reused buffer, as a trainer feeding a pinned
            // tensor would; the last case shows the cost of a fresh Vec per batch.
            let mut buffer = vec![0f32; BATCH * 3 * (size * size) as usize];
            let mut run = |views: &[View], epoch: u32| {
                for idx in &batches {
                    for &v in views {
                        let out = &mut buffer[..idx.len() * 3 * (size * size) as usize];
                        ds.batch_into(idx, v, epoch, 0, out).expect("batch");
                        std::hint::black_box(out);
                    }
                }
            };
            for (name, views) in [
                ("test (cache hit)", &[View::Test][..]),
                ("weak", &[View::Weak][..]),
                ("strong", &[View::Strong][..]),
                ("weak+strong", &[View::Weak, View::Strong][..]),
            ] {
                // weak+strong counts training samples: one sample = both views.
                let ips = throughput(n, |epoch| run(views, epoch));
                rows.push((name.into(), size, ds.threads(), ips));
            }
            let fresh = throughput(n, |epoch| {
                for idx in &batches {
                    std::hint::black_box(ds.batch(idx, View::Test, epoch, 0).expect("batch"));
                }
            });
            rows.push(("test, new Vec per batch".into(), size, ds.threads(), fresh));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!("{n} synthetic 100x100 JPEGs, batches of {BATCH}, {all_threads} cores available");
    println!("{:<26} {:>5} {:>8} {:>12} {:>14}", "case", "size", "threads", "images/s", "images/cpu-s");
    for (name, size, threads, (ips, per_cpu)) in &rows {
        let size = if *size == 0 { "-".to_string() } else { size.to_string() };
        let per_cpu = per_cpu.map_or("-".to_string(), |v| format!("{v:.0}"));
        println!("{name:<26} {size:>5} {threads:>8} {ips:>12.0} {per_cpu:>14}");
    }
    let results: Vec<serde_json::Value> = rows
        .iter()
        .map(|(name, size, threads, (ips, per_cpu))| {
            serde_json::json!({
                "case": name, "size": size, "threads": threads,
                "images_per_s": ips.round(), "images_per_cpu_s": per_cpu.map(f64::round),
            })
        })
        .collect();
    let summary = serde_json::json!({ "bench": "pipeline", "images": n, "batch": BATCH, "cores": all_threads, "results": results });
    println!("{summary}");
}
