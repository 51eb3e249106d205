//! The gpu-check bundle's binary (examples/gpu_check.rs) on a tiny CPU run,
//! so that it keeps building and running where no GPU is: its JSON line
//! carries the step rates, the precision and the 100-epoch projection.

use std::path::PathBuf;
use std::process::Command;

/// `cargo test` builds the examples next to the test binaries' `deps/`.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|d| d.parent()).unwrap();
    profile_dir.join("examples").join(format!("gpu_check{}", std::env::consts::EXE_SUFFIX))
}

fn run(precision: &str) -> serde_json::Value {
    let bin = example();
    assert!(bin.exists(), "{} was not built: `cargo test -p man-core` builds the examples (a `--test` filter does not; then `cargo build -p man-core --example gpu_check` first)", bin.display());
    let out = Command::new(&bin)
        .args(["--device", "cpu", "--precision", precision, "--size", "32", "--batch", "4"])
        .args(["--steps", "1", "--images", "8", "--threads", "1"])
        .env_remove("MAN_LIBTORCH")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "gpu_check failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn gpu_check_runs_on_the_cpu_and_prints_its_json() {
    for precision in ["fp32", "bf16"] {
        let j = run(precision);
        assert_eq!(j["bench"], "gpu_check");
        assert_eq!(j["device"], "cpu");
        assert_eq!(j["precision"], precision);
        assert_eq!((j["size"].as_u64(), j["batch"].as_u64()), (Some(32), Some(4)));
        for part in ["warmup", "codivision", "predict"] {
            let rate = j[part]["images_per_s"].as_f64().unwrap_or(0.0);
            assert!(rate > 0.0, "{part}: {}", j[part]);
        }
        let projected = j["projection_rafdb_100_epochs"]["total_s"].as_f64().unwrap_or(0.0);
        assert!(projected > 0.0, "{}", j["projection_rafdb_100_epochs"]);
        assert!(j["device_memory"].is_null(), "no device memory on the CPU");
    }
}
