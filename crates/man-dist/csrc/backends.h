// The two c10d backends man-fer can use, each made in its own translation
// unit: Gloo's class needs the Gloo headers, NCCL's the CUDA and NCCL ones.
#pragma once

#include <chrono>
#include <string>

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

namespace man_dist {

// A Gloo backend over `store`. `host` is the address to bind Gloo's device
// to; empty lets c10d choose (GLOO_SOCKET_IFNAME, else this host's name).
c10::intrusive_ptr<c10d::Backend> make_gloo(
    const c10::intrusive_ptr<c10d::Store>& store,
    int rank,
    int size,
    std::chrono::milliseconds timeout,
    const std::string& host);

// An NCCL backend over `store`; throws when this build has none.
c10::intrusive_ptr<c10d::Backend> make_nccl(
    const c10::intrusive_ptr<c10d::Store>& store,
    int rank,
    int size,
    std::chrono::milliseconds timeout);

bool has_gloo();
bool has_nccl();

} // namespace man_dist
