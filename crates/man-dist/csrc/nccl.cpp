// NCCL, the CUDA backend. Compiled only with the `nccl` feature: the object
// then needs libtorch_cuda, which a CPU-only torch does not have.
#include "backends.h"

#include <stdexcept>

#ifdef MAN_DIST_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace man_dist {

#ifdef MAN_DIST_NCCL

bool has_nccl() { return true; }

c10::intrusive_ptr<c10d::Backend> make_nccl(
    const c10::intrusive_ptr<c10d::Store>& store,
    int rank,
    int size,
    std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
}

#else

bool has_nccl() { return false; }

c10::intrusive_ptr<c10d::Backend> make_nccl(
    const c10::intrusive_ptr<c10d::Store>&, int, int, std::chrono::milliseconds) {
  throw std::runtime_error(
      "this build of man-fer has no NCCL backend (it is built with the `nccl` cargo feature); "
      "CUDA tensors go through Gloo instead");
}

#endif

} // namespace man_dist
