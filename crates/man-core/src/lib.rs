//! man-core: everything the MAN trainer does in Rust. No napi here, so all of
//! it is testable with `cargo test`; `man-node` only binds it.

pub mod data;
pub mod error;
pub mod files;
pub mod finite;
pub mod model;
pub mod runtime;
pub mod smoke;
pub mod train;
pub mod weights;

pub use error::{catch_panics, ManError, Result};
