//! bf16 autocast for forward passes, on CUDA and on the CPU (oneDNN). tch's
//! `autocast` only switches CUDA's autocast on, in float16 (torch's default
//! there), and float16 without a gradient scaler lets small gradients
//! underflow; it cannot reach the CPU's. libtorch keeps both devices' state
//! (enabled, dtype) in thread-locals that tch does not expose, so they are
//! set here through libtorch's own exported functions.

use tch::{Device, Kind};

/// `c10::DeviceType` codes.
const CPU: i8 = 0;
const CUDA: i8 = 1;

// Both enums are `int8_t` underneath, so these C++ functions take and return
// plain i8s (and a C++ bool is a Rust bool) under the Itanium C++ ABI (Linux,
// macOS); they only read or write thread-locals (clear_cache takes a lock) and
// cannot throw. MSVC mangles differently: there they are stand-ins and
// autocast is off (see `bf16`).
#[cfg(not(target_env = "msvc"))]
extern "C" {
    #[link_name = "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE"]
    fn at_set_autocast_dtype(device: i8, dtype: i8);
    #[link_name = "_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE"]
    fn at_get_autocast_dtype(device: i8) -> i8;
    #[link_name = "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb"]
    fn at_set_autocast_enabled(device: i8, enabled: bool);
    #[link_name = "_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE"]
    fn at_is_autocast_enabled(device: i8) -> bool;
    #[link_name = "_ZN2at8autocast17increment_nestingEv"]
    fn at_increment_nesting() -> i32;
    #[link_name = "_ZN2at8autocast17decrement_nestingEv"]
    fn at_decrement_nesting() -> i32;
    #[link_name = "_ZN2at8autocast11clear_cacheEv"]
    fn at_clear_cache();
}

#[cfg(target_env = "msvc")]
mod stand_ins {
    pub unsafe fn at_get_autocast_dtype(_device: i8) -> i8 {
        super::kind_code(tch::Kind::Half)
    }
    pub unsafe fn at_set_autocast_dtype(_device: i8, _dtype: i8) {}
    pub unsafe fn at_set_autocast_enabled(_device: i8, _enabled: bool) {}
    pub unsafe fn at_is_autocast_enabled(_device: i8) -> bool {
        false
    }
    pub unsafe fn at_increment_nesting() -> i32 {
        1
    }
    pub unsafe fn at_decrement_nesting() -> i32 {
        0
    }
    pub unsafe fn at_clear_cache() {}
}
#[cfg(target_env = "msvc")]
use stand_ins::*;

/// `c10::ScalarType` codes.
fn kind_code(kind: Kind) -> i8 {
    match kind {
        Kind::Half => 5,
        Kind::Float => 6,
        Kind::BFloat16 => 15,
        _ => -1,
    }
}

fn device_code(device: Device) -> i8 {
    if device.is_cuda() {
        CUDA
    } else {
        CPU
    }
}

/// The dtype autocast would use on this thread for `device` (for tests and diagnostics).
pub fn autocast_kind(device: Device) -> Option<Kind> {
    // SAFETY: reads a thread-local; see the declarations above.
    let code = unsafe { at_get_autocast_dtype(device_code(device)) };
    [Kind::Half, Kind::BFloat16, Kind::Float]
        .into_iter()
        .find(|&k| kind_code(k) == code)
}

/// Whether autocast is on for `device` on this thread.
pub fn autocast_enabled(device: Device) -> bool {
    // SAFETY: reads a thread-local.
    unsafe { at_is_autocast_enabled(device_code(device)) }
}

/// Puts this thread's autocast state for one device back as it was, even if
/// the forward pass panics (the napi layer survives panics, and the thread,
/// a pool thread, would otherwise keep computing in bf16).
struct Restore {
    device: i8,
    enabled: bool,
    dtype: i8,
}

impl Drop for Restore {
    fn drop(&mut self) {
        // SAFETY: thread-local state of this thread, and the cast cache, which
        // holds bf16 copies of weights that the optimiser is about to change.
        unsafe {
            if at_decrement_nesting() == 0 {
                at_clear_cache();
            }
            at_set_autocast_enabled(self.device, self.enabled);
            at_set_autocast_dtype(self.device, self.dtype);
        }
    }
}

/// Runs `f` with autocast in bfloat16 for `device` when `enabled`. On MSVC
/// builds it runs `f` in full precision rather than fall back to float16.
pub fn bf16<T>(enabled: bool, device: Device, f: impl FnOnce() -> T) -> T {
    if !enabled || cfg!(target_env = "msvc") {
        return f();
    }
    let code = device_code(device);
    // SAFETY: these calls only touch this thread's autocast state.
    let _restore = unsafe {
        let restore = Restore {
            device: code,
            enabled: at_is_autocast_enabled(code),
            dtype: at_get_autocast_dtype(code),
        };
        at_set_autocast_dtype(code, kind_code(Kind::BFloat16));
        at_set_autocast_enabled(code, true);
        at_increment_nesting();
        restore
    };
    f()
}
