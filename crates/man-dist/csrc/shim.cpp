// man-fer's C interface to c10d, PyTorch's distributed engine: a TCPStore
// rendezvous and the collectives of a Gloo backend (CPU, and CUDA tensors
// staged through the host) and, when built in, an NCCL backend (CUDA).
// Tensors cross as the `torch::Tensor*` that tch holds. No C++ exception
// leaves this file: every call returns 0, or -1 with a malloc'd message in
// *err for the caller to free with man_dist_free_error.
#include "backends.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <vector>

#include <ATen/Functions.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

struct man_pg {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> cpu;
  // Null without NCCL: CUDA tensors then go through `cpu`.
  c10::intrusive_ptr<c10d::Backend> cuda;
};

namespace {

char* copy_message(const char* message) {
  size_t n = std::strlen(message);
  char* out = static_cast<char*>(std::malloc(n + 1));
  if (out != nullptr) std::memcpy(out, message, n + 1);
  return out;
}

template <class F>
int guarded(char** err, F&& body) {
  try {
    body();
    return 0;
  } catch (const c10::Error& e) {
    *err = copy_message(e.what_without_backtrace());
  } catch (const std::exception& e) {
    *err = copy_message(e.what());
  } catch (...) {
    *err = copy_message("unknown C++ exception");
  }
  return -1;
}

const at::Tensor& tensor_at(const void* ptr) {
  return *static_cast<const at::Tensor*>(ptr);
}

c10d::Backend& backend_for(man_pg* pg, const at::Tensor& t) {
  if (t.is_cuda() && pg->cuda) return *pg->cuda;
  return *pg->cpu;
}

// Waits for every work, even after one failed, so that none still writes
// into a tensor the caller frees; then reports the first failure.
void wait_all(std::vector<c10::intrusive_ptr<c10d::Work>>& works) {
  std::exception_ptr first;
  for (auto& w : works) {
    try {
      w->wait();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

c10d::ReduceOp reduce_op(int op) {
  switch (op) {
    case 0: return c10d::ReduceOp::SUM;
    case 1: return c10d::ReduceOp::MAX;
    case 2: return c10d::ReduceOp::MIN;
    default: throw std::invalid_argument("unknown reduce operation " + std::to_string(op));
  }
}

} // namespace

extern "C" {

int man_dist_has_gloo() { return man_dist::has_gloo() ? 1 : 0; }

int man_dist_has_nccl() { return man_dist::has_nccl() ? 1 : 0; }

void man_dist_free_error(char* err) { std::free(err); }

// Joins the group: rank 0 serves the TCPStore at master:port and waits for
// the others; each backend rendezvous under its own key prefix.
// The layout of man-dist's `ffi::ManJoin` (#[repr(C)]).
struct man_join {
  const char* master;
  uint16_t port;
  int rank;
  int size;
  int64_t timeout_ms;
  const char* gloo_host;
  int with_nccl;
};

int man_dist_init(const man_join* join, man_pg** out, char** err) {
  return guarded(err, [&] {
    const char* master = join->master;
    const uint16_t port = join->port;
    const int rank = join->rank;
    const int size = join->size;
    const int64_t timeout_ms = join->timeout_ms;
    const char* gloo_host = join->gloo_host;
    const int with_nccl = join->with_nccl;
    std::chrono::milliseconds timeout(timeout_ms);
    c10d::TCPStoreOptions options;
    options.port = port;
    options.isServer = rank == 0;
    options.numWorkers = size;
    options.waitWorkers = true;
    options.timeout = timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(std::string(master), options);
    auto pg = std::make_unique<man_pg>();
    pg->store = store;
    pg->cpu = man_dist::make_gloo(
        c10::make_intrusive<c10d::PrefixStore>("gloo", store), rank, size, timeout, std::string(gloo_host));
    if (with_nccl != 0) {
      pg->cuda = man_dist::make_nccl(c10::make_intrusive<c10d::PrefixStore>("nccl", store), rank, size, timeout);
    }
    *out = pg.release();
  });
}

void man_dist_destroy(man_pg* pg) {
  if (pg == nullptr) return;
  try {
    if (pg->cuda) pg->cuda->shutdown();
  } catch (...) {
    // Shutting down a broken communicator may fail; the process is leaving it anyway.
  }
  delete pg;
}

// In place, each tensor its own collective; all are started before any is waited for.
int man_dist_all_reduce(man_pg* pg, const void* const* tensors, size_t n, int op, char** err) {
  return guarded(err, [&] {
    c10d::AllreduceOptions options;
    options.reduceOp = reduce_op(op);
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (size_t i = 0; i < n; i++) {
      std::vector<at::Tensor> one{tensor_at(tensors[i])};
      works.push_back(backend_for(pg, one[0]).allreduce(one, options));
    }
    wait_all(works);
  });
}

int man_dist_broadcast(man_pg* pg, const void* const* tensors, size_t n, int root, char** err) {
  return guarded(err, [&] {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (size_t i = 0; i < n; i++) {
      std::vector<at::Tensor> one{tensor_at(tensors[i])};
      works.push_back(backend_for(pg, one[0]).broadcast(one, options));
    }
    wait_all(works);
  });
}

// `output` holds world-size × input's elements, rank r's input at block r.
int man_dist_all_gather(man_pg* pg, const void* output, const void* input, char** err) {
  return guarded(err, [&] {
    at::Tensor out = tensor_at(output);
    at::Tensor in = tensor_at(input);
    std::vector<c10::intrusive_ptr<c10d::Work>> works{backend_for(pg, in)._allgather_base(out, in)};
    wait_all(works);
  });
}

int man_dist_barrier(man_pg* pg, char** err) {
  return guarded(err, [&] {
    std::vector<c10::intrusive_ptr<c10d::Work>> works{pg->cpu->barrier()};
    wait_all(works);
  });
}

// Gives a parameter a zero gradient if it has none yet, so that a rank with
// nothing to train on can still take part in the gradient all-reduce.
int man_dist_define_grad(const void* tensor, char** err) {
  return guarded(err, [&] {
    at::Tensor t = tensor_at(tensor);
    if (!t.grad().defined()) t.mutable_grad() = at::zeros_like(t);
  });
}

} // extern "C"
