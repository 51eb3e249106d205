//! The C interface of csrc/shim.cpp. Tensors are passed as the
//! `torch::Tensor*` a tch `Tensor` wraps.

use std::ffi::{c_char, c_int, c_void};

#[repr(C)]
pub struct ManPg {
    _private: [u8; 0],
}

/// Where and how to join a process group (`man_dist_init`).
#[repr(C)]
pub struct ManJoin {
    pub master: *const c_char,
    pub port: u16,
    pub rank: c_int,
    pub size: c_int,
    pub timeout_ms: i64,
    pub gloo_host: *const c_char,
    pub with_nccl: c_int,
}

extern "C" {
    pub fn man_dist_has_gloo() -> c_int;
    pub fn man_dist_has_nccl() -> c_int;
    pub fn man_dist_free_error(err: *mut c_char);
    pub fn man_dist_init(join: *const ManJoin, out: *mut *mut ManPg, err: *mut *mut c_char) -> c_int;
    pub fn man_dist_destroy(pg: *mut ManPg);
    pub fn man_dist_all_reduce(
        pg: *mut ManPg,
        tensors: *const *const c_void,
        n: usize,
        op: c_int,
        err: *mut *mut c_char,
    ) -> c_int;
    pub fn man_dist_broadcast(
        pg: *mut ManPg,
        tensors: *const *const c_void,
        n: usize,
        root: c_int,
        err: *mut *mut c_char,
    ) -> c_int;
    pub fn man_dist_all_gather(
        pg: *mut ManPg,
        output: *const c_void,
        input: *const c_void,
        err: *mut *mut c_char,
    ) -> c_int;
    pub fn man_dist_barrier(pg: *mut ManPg, err: *mut *mut c_char) -> c_int;
    pub fn man_dist_define_grad(tensor: *const c_void, err: *mut *mut c_char) -> c_int;
}
