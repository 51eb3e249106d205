//! Which float type the forward passes compute in. Master weights, gradients
//! and Adam's moments are float32 whatever is chosen; bf16 means autocast
//! (`autocast.rs`): convolutions and matrix products in bfloat16, the rest as
//! libtorch's autocast lists decide, logits returned as float32.

use tch::Device;

use crate::{ManError, Result};

/// What a configuration asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrecisionRequest {
    /// bf16 where the hardware computes it natively, fp32 elsewhere (see `resolve`).
    #[default]
    Auto,
    Fp32,
    Bf16,
}

impl PrecisionRequest {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "auto" => Ok(Self::Auto),
            "fp32" => Ok(Self::Fp32),
            "bf16" => Ok(Self::Bf16),
            other => Err(ManError::Config(format!("precision must be 'auto', 'fp32' or 'bf16', got '{other}'"))),
        }
    }
}

/// What the trainer computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Fp32,
    Bf16,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Self::Fp32 => "fp32",
            Self::Bf16 => "bf16",
        }
    }
}

/// The CPU's native bfloat16 arithmetic, as far as oneDNN uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuBf16 {
    /// Intel AMX tiles with bf16 (Sapphire Rapids and later), enabled by the OS.
    pub amx_bf16: bool,
    /// AVX-512 BF16 dot products (Cooper Lake, Zen 4 and later).
    pub avx512_bf16: bool,
}

impl CpuBf16 {
    pub fn any(self) -> bool {
        self.amx_bf16 || self.avx512_bf16
    }
}

/// The precision a request resolves to on `device`. `Auto` takes bf16 only on
/// a CPU with AMX or AVX-512-BF16: without them libtorch emulates bfloat16
/// and a step is slower than in fp32. On CUDA `Auto` stays fp32 until bf16
/// has been measured there (docs/performance.md); `Bf16` asks for it.
pub fn resolve(asked: PrecisionRequest, device: Device, cpu: CpuBf16) -> Precision {
    match asked {
        PrecisionRequest::Fp32 => Precision::Fp32,
        PrecisionRequest::Bf16 => Precision::Bf16,
        PrecisionRequest::Auto if device == Device::Cpu && cpu.any() => Precision::Bf16,
        PrecisionRequest::Auto => Precision::Fp32,
    }
}

/// What this machine's CPU offers.
pub fn cpu_bf16() -> CpuBf16 {
    detect::cpu_bf16()
}

#[cfg(target_arch = "x86_64")]
mod detect {
    use std::arch::x86_64::{__cpuid, __cpuid_count, _xgetbv};

    /// XCR0 bits of the AMX tile state (XTILECFG, XTILEDATA): set when the OS saves it.
    const XCR0_AMX: u64 = (1 << 17) | (1 << 18);

    #[target_feature(enable = "xsave")]
    unsafe fn xcr0() -> u64 {
        _xgetbv(0)
    }

    pub fn cpu_bf16() -> super::CpuBf16 {
        let avx512_bf16 = std::arch::is_x86_feature_detected!("avx512bf16");
        // `is_x86_feature_detected!("amx-bf16")` is unstable: CPUID leaf 7 EDX bit 22, and the OS must save the tiles.
        let amx_bf16 = {
            // SAFETY: CPUID exists on every x86-64 CPU; leaf 7 is read only when the CPU reports it.
            let max_leaf = __cpuid(0).eax;
            let cpu_has = max_leaf >= 7 && (__cpuid_count(7, 0).edx >> 22) & 1 == 1;
            // SAFETY: XGETBV is only executed when the OS has enabled XSAVE (reported by the check before it).
            cpu_has && std::arch::is_x86_feature_detected!("xsave") && unsafe { xcr0() } & XCR0_AMX == XCR0_AMX
        };
        super::CpuBf16 { amx_bf16, avx512_bf16 }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod detect {
    /// Elsewhere (arm64 included) libtorch's CPU autocast has no native bf16 path worth choosing by default.
    pub fn cpu_bf16() -> super::CpuBf16 {
        super::CpuBf16::default()
    }
}
