// Compiles the C++ shim over c10d against the headers of the libtorch that
// torch-sys links (DEP_TCH_LIBTORCH_LIB), with the same C++ ABI setting.
// Gloo's class needs the Gloo headers, which the torch wheel lacks: they come
// from MAN_GLOO_INCLUDE or the system (Debian/Ubuntu: libgloo-dev). Without
// them the shim builds and every join fails with a message saying so.
// NCCL (feature `nccl`) needs the CUDA runtime, CUDA C runtime (crt), CCCL
// and NCCL headers: MAN_CUDA_INCLUDE (':'-separated) or the nvidia/* wheels
// beside torch, or CUDA_HOME.
use std::env;
use std::path::{Path, PathBuf};

fn gloo_include() -> Option<PathBuf> {
    println!("cargo:rerun-if-env-changed=MAN_GLOO_INCLUDE");
    let mut dirs: Vec<PathBuf> = env::var("MAN_GLOO_INCLUDE").ok().map(PathBuf::from).into_iter().collect();
    dirs.extend(["/usr/include", "/usr/local/include"].map(PathBuf::from));
    dirs.into_iter().find(|d| d.join("gloo/algorithm.h").is_file())
}

/// Directories that hold every header the NCCL backend's class needs, or the missing names.
fn cuda_includes(torch: &Path) -> Result<Vec<PathBuf>, Vec<&'static str>> {
    println!("cargo:rerun-if-env-changed=MAN_CUDA_INCLUDE");
    println!("cargo:rerun-if-env-changed=CUDA_HOME");
    let mut dirs: Vec<PathBuf> = env::var("MAN_CUDA_INCLUDE")
        .map(|v| env::split_paths(&v).collect())
        .unwrap_or_default();
    if let Some(site) = torch.parent() {
        for sub in ["nvidia/cu13/include", "nvidia/cuda_runtime/include", "nvidia/nccl/include"] {
            dirs.push(site.join(sub));
        }
    }
    if let Ok(home) = env::var("CUDA_HOME") {
        dirs.push(Path::new(&home).join("include"));
    }
    dirs.retain(|d| d.is_dir());
    let needed = ["cuda_runtime_api.h", "crt/host_config.h", "nv/target", "nccl.h"];
    let missing: Vec<&str> = needed.into_iter().filter(|h| !dirs.iter().any(|d| d.join(h).exists())).collect();
    if missing.is_empty() {
        Ok(dirs)
    } else {
        Err(missing)
    }
}

fn main() {
    for f in ["csrc/shim.cpp", "csrc/gloo.cpp", "csrc/nccl.cpp", "csrc/backends.h"] {
        println!("cargo:rerun-if-changed={f}");
    }
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    let lib = PathBuf::from(env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys did not report its libtorch lib directory"));
    let torch = lib.parent().expect("libtorch lib directory has a parent").to_path_buf();
    // torch-sys's default; the PyPI wheels of torch 2.x use the C++11 ABI.
    let abi = env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".to_string());

    let mut build = cc::Build::new();
    build
        .cpp(true)
        .pic(true)
        .warnings(false)
        .std("c++17")
        .include(torch.join("include"))
        .include(torch.join("include/torch/csrc/api/include"))
        .define("_GLIBCXX_USE_CXX11_ABI", abi.as_str())
        .file("csrc/shim.cpp")
        .file("csrc/gloo.cpp")
        .file("csrc/nccl.cpp");
    match gloo_include() {
        Some(dir) => {
            build.include(dir).define("USE_C10D_GLOO", None).define("MAN_DIST_GLOO", None);
        }
        None => println!(
            "cargo:warning=man-dist: no Gloo headers (install libgloo-dev or set MAN_GLOO_INCLUDE): data-parallel training will be unavailable"
        ),
    }
    if env::var_os("CARGO_FEATURE_NCCL").is_some() {
        if !lib.join("libtorch_cuda.so").is_file() {
            panic!("man-dist: the `nccl` feature needs a CUDA build of torch; {} has no libtorch_cuda.so", lib.display());
        }
        match cuda_includes(&torch) {
            Ok(dirs) => {
                build.includes(dirs).define("USE_C10D_NCCL", None).define("USE_CUDA", None).define("MAN_DIST_NCCL", None);
            }
            Err(missing) => panic!(
                "man-dist: the `nccl` feature needs the CUDA and NCCL headers; missing {}. \
                 With torch from PyPI: pip install nvidia-cuda-crt nvidia-cuda-cccl (the CUDA version of torch's \
                 nvidia-cuda-runtime), or point MAN_CUDA_INCLUDE at directories that hold them",
                missing.join(", ")
            ),
        }
        println!("cargo:rustc-link-search=native={}", lib.display());
        println!("cargo:rustc-link-lib=dylib=torch_cuda");
        println!("cargo:rustc-link-lib=dylib=c10_cuda");
    }
    build.compile("man_dist_shim");
    // This crate's own test executables find libtorch through an rpath (link
    // args do not reach dependents; the addon's loader opens libtorch itself).
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
}
