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

// Where a rank joins its group: the master (rank 0, which hosts the rendezvous store) and the
// local interface its Gloo connections use.
struct ConnectOptions {
  int rank = 0;
  int world_size = 1;
  std::string master_address = "127.0.0.1";  // --dist_addr
  int master_port = 0;                       // --dist_port
  int timeout_s = 120;                       // --dist_timeout: joining and every collective
  std::string interface;                     // --dist_iface (GLOO_SOCKET_IFNAME wins)
};

// The local interface(s) a rank's Gloo device binds to, chosen as PyTorch's Gloo backend does
// but so that one command works on every host: GLOO_SOCKET_IFNAME (comma-separated, one device
// each) when set, else `interface` (--dist_iface), else the local address that routes to the
// master, else whatever this host's name resolves to.
struct GlooInterface {
  std::string name;     // e.g. "eth0"; "?" when only the address is known
  std::string address;  // its numeric address
  std::string rule;     // which of the rules above chose it, for the log
  bool named_by_user;   // the device binds to the interface (else to the address)
};
absl::StatusOr<std::vector<GlooInterface>> ChooseGlooInterfaces(const ConnectOptions& options);

// A process group over c10d Gloo: rank, world size, and the collectives training needs
// (gradient averaging, scalar sums, barrier, SyncBatchNorm's gather and sum).
class Distributed : public BatchGroup {
 public:
  // Joins the group. Every failure is one line naming this rank, the master's address and the
  // cause, within options.timeout_s: the master unreachable, ranks that did not join (named),
  // an interface that does not exist.
  static absl::StatusOr<std::unique_ptr<Distributed>> Connect(const ConnectOptions& options);
  ~Distributed() override;

  int rank() const { return rank_; }
  int world_size() const override { return world_size_; }
  // The interfaces this rank's Gloo device uses.
  const std::vector<GlooInterface>& interfaces() const { return interfaces_; }

  // Every collective fails with UnavailableError, never an exception, when a peer died or did
  // not answer within the timeout: "rank R (ADDRESS): <op> failed: rank P (ADDRESS) died, was
  // cut off or did not answer within --dist_timeout=N s (Gloo: ...)"; the peer is named when
  // Gloo's message names its address or when there is only one.

  // Sum of `values` over ranks.
  absl::StatusOr<std::vector<double>> SumScalars(const std::vector<double>& values);
  // Rank 0's values of `tensors` copied into every rank's (one flattened buffer per dtype).
  absl::Status BroadcastFromRank0(const std::vector<torch::Tensor>& tensors);
  absl::Status Barrier();
  // Rank 0's `text` on every rank (through the rendezvous store), e.g. its work dir's path.
  absl::StatusOr<std::string> TextFromRank0(const std::string& name, const std::string& text);

  // BatchGroup, for SyncBatchNorm inside forward and backward: a failure is kept (failure())
  // and thrown as CollectiveError.
  torch::Tensor AllGather(const torch::Tensor& local) override;
  torch::Tensor AllReduceSum(const torch::Tensor& local) override;
  // The first failed collective thrown through forward / backward (OK if none).
  const absl::Status& failure() const { return failure_; }

 private:
  friend class GradientReducer;
  Distributed(int rank, int world_size, int timeout_s);
  // "rank P (ADDRESS)" for the peer that Gloo's message `what` points at, "a peer" if unknown.
  std::string Peer(const std::string& what) const;
  // Runs `op` (a collective and its wait), turning an exception into the error above.
  absl::Status Guard(const std::string& name, const std::function<void()>& op);
  // Guard for the BatchGroup collectives: throws CollectiveError on failure.
  void GuardOrThrow(const std::string& name, const std::function<void()>& op);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_, world_size_, timeout_s_;
  std::vector<GlooInterface> interfaces_;
  std::vector<std::string> rank_addresses_;  // every rank's first Gloo address
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
