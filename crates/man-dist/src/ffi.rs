//! The C interface of csrc/shim.cpp. Tensors are passed as the
//! `torch::Tensor*` a tch `Tensor` wraps.

use std::ffi::{c_char, c_int, c_void};

#[repr(C)]
pub struct ManPg {
    _private: [u8; 0],
}

extern "C" {
    pub fn man_dist_has_gloo() -> c_int;
    pub fn man_dist_has_nccl() -> c_int;
    pub fn man_dist_free_error(err: *mut c_char);
    #[allow(clippy::too_many_arguments)]
    pub fn man_dist_init(
        master: *const c_char,
        port: u16,
        rank: c_int,
        size: c_int,
        timeout_ms: i64,
        gloo_host: *const c_char,
        with_nccl: c_int,
        out: *mut *mut ManPg,
        err: *mut *mut c_char,
    ) -> c_int;
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
