/** The one libtorch version man-fer is built against (PyPI torch, crate tch 0.24.0). */
export const REQUIRED_TORCH_VERSION = '2.11.0'
