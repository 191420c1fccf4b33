#include "ann/train/distributed.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "ann/util/status_macros.h"
#include "torch/csrc/distributed/c10d/ProcessGroupGloo.hpp"
#include "torch/csrc/distributed/c10d/TCPStore.hpp"

namespace ann {

struct Distributed::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

Distributed::Distributed(int rank, int world_size, int timeout_s)
    : impl_(std::make_unique<Impl>()),
      rank_(rank),
      world_size_(world_size),
      timeout_s_(timeout_s) {}

absl::Status Distributed::Guard(const char* name, const std::function<void()>& op) {
  try {
    op();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    return absl::UnavailableError(
        absl::StrCat("rank ", rank_, ": ", name,
                     " failed: a peer process died or did not answer within "
                     "--dist_timeout=",
                     timeout_s_, " s (Gloo: ", what.substr(0, what.find('\n')), ")"));
  }
}

void Distributed::GuardOrThrow(const char* name, const std::function<void()>& op) {
  absl::Status status = Guard(name, op);
  if (status.ok()) return;
  if (failure_.ok()) failure_ = status;
  throw CollectiveError(std::string(status.message()));
}

Distributed::~Distributed() = default;

absl::StatusOr<std::unique_ptr<Distributed>> Distributed::Connect(int rank, int world_size,
                                                                  const std::string& address,
                                                                  int port, int timeout_s) {
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rank: ", rank, " is not in [0, --world_size=", world_size, ")"));
  }
  std::unique_ptr<Distributed> d(new Distributed(rank, world_size, timeout_s));
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(port);
    options.isServer = rank == 0;
    options.numWorkers = world_size;
    options.timeout = std::chrono::seconds(timeout_s);
    d->impl_->store = c10::make_intrusive<c10d::TCPStore>(address, options);
    auto group_options = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(timeout_s));
    group_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(address));
    group_options->threads = 1;
    d->impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(d->impl_->store, rank, world_size,
                                                                  group_options);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("rank ", rank, ": cannot join the process group at ",
                                               address, ":", port, ": ", e.what()));
  }
  return d;
}

absl::StatusOr<std::vector<double>> Distributed::SumScalars(const std::vector<double>& values) {
  std::vector<torch::Tensor> t = {torch::tensor(values, torch::kFloat64)};
  absl::Status status = Guard("all-reduce", [&] { impl_->group->allreduce(t)->wait(); });
  if (!status.ok()) return status;
  return std::vector<double>(t[0].data_ptr<double>(), t[0].data_ptr<double>() + values.size());
}

absl::Status Distributed::BroadcastFromRank0(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_dtype;
  for (const torch::Tensor& t : tensors) by_dtype[t.scalar_type()].push_back(t);
  for (auto& [dtype, group] : by_dtype) {
    std::vector<torch::Tensor> flat_parts;
    for (const torch::Tensor& t : group) flat_parts.push_back(t.reshape({-1}));
    std::vector<torch::Tensor> flat = {torch::cat(flat_parts)};
    c10d::BroadcastOptions options;
    options.rootRank = 0;
    ANN_RETURN_IF_ERROR(
        Guard("broadcast", [&] { impl_->group->broadcast(flat, options)->wait(); }));
    int64_t offset = 0;
    for (const torch::Tensor& t : group) {
      t.copy_(flat[0].narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }
  return absl::OkStatus();
}

torch::Tensor Distributed::AllGather(const torch::Tensor& local) {
  std::vector<torch::Tensor> input = {local.contiguous()};
  std::vector<std::vector<torch::Tensor>> output(1);
  for (int r = 0; r < world_size_; ++r) output[0].push_back(torch::empty_like(input[0]));
  GuardOrThrow("SyncBatchNorm all-gather", [&] { impl_->group->allgather(output, input)->wait(); });
  return torch::stack(output[0]);
}

torch::Tensor Distributed::AllReduceSum(const torch::Tensor& local) {
  std::vector<torch::Tensor> t = {local.contiguous().clone()};
  GuardOrThrow("SyncBatchNorm all-reduce", [&] { impl_->group->allreduce(t)->wait(); });
  return t[0];
}

absl::Status Distributed::Barrier() {
  return Guard("barrier", [&] { impl_->group->barrier()->wait(); });
}

struct GradientReducer::State {
  struct Bucket {
    torch::Tensor flat;
    std::vector<size_t> params;
    std::vector<int64_t> offsets;
    size_t pending = 0;
    c10::intrusive_ptr<c10d::Work> work;
  };
  std::vector<torch::Tensor> params;
  std::vector<size_t> bucket_of, slot_of;  // per parameter
  std::vector<bool> ready;                 // per parameter, this step
  std::vector<Bucket> buckets;
  std::vector<unsigned> hooks;
  size_t next_to_start = 0;
  std::mutex mu;
};

GradientReducer::GradientReducer(Distributed& dist, std::vector<torch::Tensor> params,
                                 int64_t bucket_bytes)
    : dist_(dist), state_(std::make_unique<State>()) {
  State& s = *state_;
  s.params = std::move(params);
  const size_t n = s.params.size();
  s.bucket_of.assign(n, 0);
  s.slot_of.assign(n, 0);
  s.ready.assign(n, false);
  int64_t bytes = 0;
  for (size_t k = n; k-- > 0;) {  // reverse: the order backward computes gradients in
    const torch::Tensor& p = s.params[k];
    TORCH_CHECK(p.scalar_type() == s.params.back().scalar_type(),
                "GradientReducer: parameters of several dtypes");
    if (s.buckets.empty() || bytes >= bucket_bytes) {
      s.buckets.emplace_back();
      bytes = 0;
    }
    State::Bucket& b = s.buckets.back();
    s.bucket_of[k] = s.buckets.size() - 1;
    s.slot_of[k] = b.params.size();
    b.offsets.push_back(b.params.empty() ? 0
                                         : b.offsets.back() + s.params[b.params.back()].numel());
    b.params.push_back(k);
    bytes += p.numel() * p.element_size();
  }
  for (State::Bucket& b : s.buckets) {
    const int64_t numel = b.offsets.back() + s.params[b.params.back()].numel();
    b.flat = torch::zeros({numel}, s.params.back().options().requires_grad(false));
    b.pending = b.params.size();
  }
  for (size_t k = 0; k < n; ++k) {
    s.hooks.push_back(
        s.params[k].register_hook([this, k](const torch::Tensor& grad) { OnGradient(k, grad); }));
  }
}

GradientReducer::~GradientReducer() {
  for (size_t k = 0; k < state_->params.size(); ++k)
    state_->params[k].remove_hook(state_->hooks[k]);
}

int GradientReducer::buckets() const { return static_cast<int>(state_->buckets.size()); }

int64_t GradientReducer::bytes() const {
  int64_t total = 0;
  for (const State::Bucket& b : state_->buckets) total += b.flat.numel() * b.flat.element_size();
  return total;
}

void GradientReducer::OnGradient(size_t index, const torch::Tensor& grad) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  // Autograd gives a leaf one summed gradient per backward; an undefined one counts as zeros.
  if (s.ready[index] || !grad.defined()) return;
  State::Bucket& b = s.buckets[s.bucket_of[index]];
  torch::NoGradGuard no_grad;
  b.flat.narrow(0, b.offsets[s.slot_of[index]], grad.numel()).copy_(grad.reshape({-1}));
  s.ready[index] = true;
  --b.pending;
  StartReadyBuckets();
}

void GradientReducer::StartReadyBuckets() {
  State& s = *state_;
  while (s.next_to_start < s.buckets.size() && s.buckets[s.next_to_start].pending == 0) {
    State::Bucket& b = s.buckets[s.next_to_start++];
    std::vector<torch::Tensor> tensors = {b.flat};
    try {
      b.work = dist_.impl_->group->allreduce(tensors);
    } catch (const std::exception&) {
      b.work.reset();  // Finish() reports it
    }
  }
}

absl::Status GradientReducer::Finish() {
  State& s = *state_;
  const auto start = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    torch::NoGradGuard no_grad;
    for (size_t k = 0; k < s.params.size(); ++k) {
      if (s.ready[k]) continue;
      State::Bucket& b = s.buckets[s.bucket_of[k]];
      b.flat.narrow(0, b.offsets[s.slot_of[k]], s.params[k].numel()).zero_();
      --b.pending;
    }
    StartReadyBuckets();
  }
  absl::Status status;
  for (State::Bucket& b : s.buckets) {
    if (status.ok()) {
      status = dist_.Guard("gradient all-reduce", [&] {
        TORCH_CHECK(b.work, "the all-reduce could not start");
        b.work->wait();
      });
    }
    b.work.reset();
    b.pending = b.params.size();
  }
  s.next_to_start = 0;
  last_wait_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<bool> had(s.ready);
  s.ready.assign(s.params.size(), false);
  if (!status.ok()) return status;
  torch::NoGradGuard no_grad;
  const double world = dist_.world_size();
  for (size_t k = 0; k < s.params.size(); ++k) {
    torch::Tensor& p = s.params[k];
    if (!had[k] && !p.grad().defined()) continue;
    State::Bucket& b = s.buckets[s.bucket_of[k]];
    const torch::Tensor mean = b.flat.narrow(0, b.offsets[s.slot_of[k]], p.numel()).div(world);
    if (p.grad().defined()) {
      p.mutable_grad().copy_(mean.view_as(p));
    } else {
      p.mutable_grad() = mean.view_as(p).clone();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<double> GradientReducer::TimeBlocking() {
  State& s = *state_;
  const auto start = std::chrono::steady_clock::now();
  for (State::Bucket& b : s.buckets) {
    std::vector<torch::Tensor> tensors = {torch::zeros_like(b.flat)};
    ANN_RETURN_IF_ERROR(dist_.Guard("gradient all-reduce",
                                    [&] { dist_.impl_->group->allreduce(tensors)->wait(); }));
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 29500;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 29500;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace ann
