// Multi-process data-parallel training over c10d's Gloo backend (loopback or any TCP network):
// a TCPStore rendezvous at --dist_addr:--dist_port, then gradients are averaged across ranks
// after every backward (one flattened all-reduce), so every rank keeps identical weights.
// BatchNorm statistics stay per process (mmseg's non-synchronised BN; SyncBN is not built).
// A dead or hung peer ends every collective with an error after the timeout (--dist_timeout).
#ifndef ANN_TRAIN_DISTRIBUTED_H_
#define ANN_TRAIN_DISTRIBUTED_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "torch/torch.h"

namespace ann {

// A process group over c10d Gloo: rank, world size, and the collectives training needs
// (gradient averaging, scalar sums, barrier).
class Distributed {
 public:
  // Joins the group (rank 0 hosts the store). Fails with a clear message after `timeout_s`.
  static absl::StatusOr<std::unique_ptr<Distributed>> Connect(int rank, int world_size,
                                                              const std::string& address, int port,
                                                              int timeout_s = 120);
  ~Distributed();

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }

  // Every collective fails with UnavailableError, never an exception, when a peer died or did
  // not answer within the timeout: "rank R: <op> failed: a peer process died or did not answer
  // within --dist_timeout=N s (Gloo: ...)".

  // grads ← mean over ranks (in place), through one flattened buffer.
  absl::Status AverageGradients(const std::vector<torch::Tensor>& params);
  // Sum of `values` over ranks.
  absl::StatusOr<std::vector<double>> SumScalars(const std::vector<double>& values);
  absl::Status Barrier();

 private:
  Distributed(int rank, int world_size, int timeout_s);
  // Runs `op` (a collective and its wait), turning an exception into the error above.
  absl::Status Guard(const char* name, const std::function<void()>& op);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_, world_size_, timeout_s_;
};

// A TCP port on 127.0.0.1 free right now (for a local launcher).
int FreeLoopbackPort();

}  // namespace ann

#endif  // ANN_TRAIN_DISTRIBUTED_H_
