//! bf16 autocast for CUDA forward passes. tch's `autocast` only switches
//! autocast on, which on CUDA means float16 (torch's default), and float16
//! without a gradient scaler lets small gradients underflow. libtorch keeps
//! the autocast dtype in a thread-local that tch does not expose, so it is
//! set here through libtorch's own exported function.

use tch::Kind;

/// `c10::DeviceType::CUDA`.
const CUDA: i8 = 1;

// Both enums are `int8_t` underneath, so these C++ functions take and return
// plain i8s under the Itanium C++ ABI (Linux, macOS); they only read or write
// a thread-local array and cannot throw. MSVC mangles differently: there the
// two are stand-ins and mixed precision is off (see `bf16`).
#[cfg(not(target_env = "msvc"))]
extern "C" {
    #[link_name = "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE"]
    fn at_set_autocast_dtype(device: i8, dtype: i8);
    #[link_name = "_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE"]
    fn at_get_autocast_dtype(device: i8) -> i8;
}

#[cfg(target_env = "msvc")]
unsafe fn at_get_autocast_dtype(_device: i8) -> i8 {
    kind_code(Kind::Half)
}

#[cfg(target_env = "msvc")]
unsafe fn at_set_autocast_dtype(_device: i8, _dtype: i8) {}

/// `c10::ScalarType` codes.
fn kind_code(kind: Kind) -> i8 {
    match kind {
        Kind::Half => 5,
        Kind::Float => 6,
        Kind::BFloat16 => 15,
        _ => -1,
    }
}

/// The dtype CUDA autocast would use on this thread (for tests and diagnostics).
pub fn cuda_autocast_kind() -> Option<Kind> {
    // SAFETY: reads a thread-local; see the declaration above.
    let code = unsafe { at_get_autocast_dtype(CUDA) };
    [Kind::Half, Kind::BFloat16, Kind::Float]
        .into_iter()
        .find(|&k| kind_code(k) == code)
}

/// Runs `f` with CUDA autocast in bfloat16 when `enabled`, restoring the
/// thread's previous autocast dtype afterwards. On MSVC builds it runs `f` in
/// full precision rather than fall back to float16.
pub fn bf16<T>(enabled: bool, f: impl FnOnce() -> T) -> T {
    if !enabled || cfg!(target_env = "msvc") {
        return f();
    }
    // SAFETY: both calls only touch this thread's autocast state.
    let previous = unsafe { at_get_autocast_dtype(CUDA) };
    unsafe { at_set_autocast_dtype(CUDA, kind_code(Kind::BFloat16)) };
    let out = tch::autocast(true, f);
    unsafe { at_set_autocast_dtype(CUDA, previous) };
    out
}
