//! The three subsets of co-division (docs/method.md). This enum is the one
//! definition of their codes: with the `napi` feature it crosses to
//! TypeScript as the `Partition` enum of the generated declarations.

#[cfg(feature = "napi")]
use napi_derive::napi;

/// Where co-division puts a training sample, by how many of the two networks
/// predict its given label. Codes cross as one byte per sample.
#[cfg_attr(feature = "napi", napi)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Partition {
    /// Both networks predict the given label.
    Clean = 0,
    /// Exactly one network predicts it.
    Ambiguous = 1,
    /// Neither network predicts it.
    Noisy = 2,
}

impl Partition {
    pub const fn code(self) -> u8 {
        self as u8
    }

    pub const fn from_code(code: u8) -> Option<Partition> {
        match code {
            0 => Some(Partition::Clean),
            1 => Some(Partition::Ambiguous),
            2 => Some(Partition::Noisy),
            _ => None,
        }
    }
}
