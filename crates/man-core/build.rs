// Records the libtorch version this crate is compiled against, read from the
// same headers torch-sys compiles with, so the addon can report it.
use std::path::PathBuf;

fn header_version(dir: PathBuf) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("include/torch/headeronly/version.h")).ok()?;
    let field = |name: &str| {
        text.lines().find_map(|l| {
            l.trim().strip_prefix(&format!("#define {name} ")).map(|v| v.trim().to_string())
        })
    };
    Some(format!(
        "{}.{}.{}",
        field("TORCH_VERSION_MAJOR")?,
        field("TORCH_VERSION_MINOR")?,
        field("TORCH_VERSION_PATCH")?
    ))
}

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    // `napi build` collects the TypeScript declarations of the `napi` feature's
    // types while this crate compiles, and forces a recompile through these.
    println!("cargo:rerun-if-env-changed=NAPI_TYPE_DEF_TMP_FOLDER");
    println!("cargo:rerun-if-env-changed=NAPI_FORCE_BUILD_MAN_CORE");
    let version = std::env::var("LIBTORCH")
        .ok()
        .map(PathBuf::from)
        .and_then(header_version)
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=MAN_TORCH_VERSION={version}");
    // This crate's own test, example and bin executables find libtorch
    // through an rpath. Link args do not propagate to dependents, so the
    // addon (man-node) gets none: the TypeScript loader opens libtorch first.
    if let Ok(dir) = std::env::var("LIBTORCH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}/lib");
    }
}
