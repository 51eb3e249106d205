// Gloo, the CPU backend (it also takes CUDA tensors, staged through host memory).
#include "backends.h"

#include <stdexcept>

#ifdef MAN_DIST_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

namespace man_dist {

#ifdef MAN_DIST_GLOO

bool has_gloo() { return true; }

c10::intrusive_ptr<c10d::Backend> make_gloo(
    const c10::intrusive_ptr<c10d::Store>& store,
    int rank,
    int size,
    std::chrono::milliseconds timeout,
    const std::string& host) {
  // create_default honours GLOO_SOCKET_IFNAME like torch.distributed does.
  auto options = host.empty()
      ? c10d::ProcessGroupGloo::Options::create_default(timeout)
      : c10d::ProcessGroupGloo::Options::create(timeout);
  if (!host.empty()) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(host));
  }
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
}

#else

bool has_gloo() { return false; }

c10::intrusive_ptr<c10d::Backend> make_gloo(
    const c10::intrusive_ptr<c10d::Store>&, int, int, std::chrono::milliseconds, const std::string&) {
  throw std::runtime_error(
      "this build of man-fer has no Gloo backend: its C++ shim was compiled without the Gloo headers "
      "(install libgloo-dev, or set MAN_GLOO_INCLUDE, and rebuild)");
}

#endif

} // namespace man_dist
