// Multi-process data-parallel training over c10d's Gloo backend (loopback or any TCP network):
// a TCPStore rendezvous at --dist_addr:--dist_port, then gradients are averaged across ranks
// during backward in buckets (GradientReducer, DDP's scheme), so every rank keeps identical
// weights; it is also the BatchGroup of SyncBatchNorm (ann/model/data_parallel).
// A dead or hung peer ends every collective with an error after the timeout (--dist_timeout).
#ifndef ANN_TRAIN_DISTRIBUTED_H_
#define ANN_TRAIN_DISTRIBUTED_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/model/data_parallel.h"
#include "torch/torch.h"

namespace ann {

// A process group over c10d Gloo: rank, world size, and the collectives training needs
// (gradient averaging, scalar sums, barrier, SyncBatchNorm's gather and sum).
class Distributed : public BatchGroup {
 public:
  // Joins the group (rank 0 hosts the store). Fails with a clear message after `timeout_s`.
  static absl::StatusOr<std::unique_ptr<Distributed>> Connect(int rank, int world_size,
                                                              const std::string& address, int port,
                                                              int timeout_s = 120);
  ~Distributed() override;

  int rank() const { return rank_; }
  int world_size() const override { return world_size_; }

  // Every collective fails with UnavailableError, never an exception, when a peer died or did
  // not answer within the timeout: "rank R: <op> failed: a peer process died or did not answer
  // within --dist_timeout=N s (Gloo: ...)".

  // Sum of `values` over ranks.
  absl::StatusOr<std::vector<double>> SumScalars(const std::vector<double>& values);
  // Rank 0's values of `tensors` copied into every rank's (one flattened buffer per dtype).
  absl::Status BroadcastFromRank0(const std::vector<torch::Tensor>& tensors);
  absl::Status Barrier();

  // BatchGroup, for SyncBatchNorm inside forward and backward: a failure is kept (failure())
  // and thrown as CollectiveError.
  torch::Tensor AllGather(const torch::Tensor& local) override;
  torch::Tensor AllReduceSum(const torch::Tensor& local) override;
  // The first failed collective thrown through forward / backward (OK if none).
  const absl::Status& failure() const { return failure_; }

 private:
  friend class GradientReducer;
  Distributed(int rank, int world_size, int timeout_s);
  // Runs `op` (a collective and its wait), turning an exception into the error above.
  absl::Status Guard(const char* name, const std::function<void()>& op);
  // Guard for the BatchGroup collectives: throws CollectiveError on failure.
  void GuardOrThrow(const char* name, const std::function<void()>& op);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_, world_size_, timeout_s_;
  absl::Status failure_;
};

// DDP's gradient reduction: the parameters are cut into buckets of about `bucket_bytes` in
// reverse order (the order backward produces their gradients); a hook on each parameter copies
// its gradient into its bucket as soon as autograd has computed it, and a full bucket's
// all-reduce starts at once on Gloo's thread while backward goes on. Buckets start in index
// order on every rank (the collectives must match). Finish() then waits for what is left and
// writes the mean over ranks into every .grad. The bucket layout depends only on the parameters
// and `bucket_bytes`, so the sums, and a run's numbers, are the same every time.
class GradientReducer {
 public:
  GradientReducer(Distributed& dist, std::vector<torch::Tensor> params,
                  int64_t bucket_bytes = 25 << 20);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // After backward: starts the buckets still waiting (a parameter without a gradient this step
  // counts as zeros), waits for all, writes the averaged gradients.
  absl::Status Finish();
  // One all-reduce of every bucket started only after it (as if nothing overlapped), in
  // seconds: the communication time that the hooks hide behind backward.
  absl::StatusOr<double> TimeBlocking();

  int buckets() const;
  int64_t bytes() const;
  // Seconds the last Finish() waited for communication not hidden behind backward.
  double last_wait_seconds() const { return last_wait_; }

 private:
  struct State;
  void OnGradient(size_t index, const torch::Tensor& grad);
  void StartReadyBuckets();
  Distributed& dist_;
  std::unique_ptr<State> state_;
  double last_wait_ = 0;
};

// A TCP port on 127.0.0.1 free right now (for a local launcher).
int FreeLoopbackPort();

}  // namespace ann

#endif  // ANN_TRAIN_DISTRIBUTED_H_
