#include "ann/train/distributed.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ann/util/network.h"
#include "ann/util/status_macros.h"
#include "glog/logging.h"
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

namespace {

// The first line of an exception's message: c10::Error appends C++ stack frames after it.
std::string FirstLine(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  const std::string what = c10 ? c10->what_without_backtrace() : e.what();
  return what.substr(0, what.find('\n'));
}

// c10d's socket code logs each retry and its final failure through glog ("[c10d] The client
// socket has failed to connect ..."); while joining, that failure is reported once, by us.
// Ranks may join from several threads of one process (tests): the first in saves the level,
// the last out restores it.
class QuietLibraryLogs {
 public:
  QuietLibraryLogs() {
    std::lock_guard<std::mutex> lock(mu_);
    if (depth_++ == 0) {
      saved_ = FLAGS_minloglevel;
      FLAGS_minloglevel = google::GLOG_FATAL;
    }
  }
  ~QuietLibraryLogs() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--depth_ == 0) FLAGS_minloglevel = saved_;
  }

 private:
  static inline std::mutex mu_;
  static inline int depth_ = 0;
  static inline int saved_ = 0;
};

std::string RankKey(int rank) { return absl::StrCat("ann/rank/", rank); }

}  // namespace

absl::StatusOr<std::vector<GlooInterface>> ChooseGlooInterfaces(const ConnectOptions& options) {
  std::vector<GlooInterface> chosen;
  // Interfaces named by the user: each must exist and have an address.
  auto named = [&](const std::string& names, const std::string& source) -> absl::Status {
    for (absl::string_view name : absl::StrSplit(names, ',', absl::SkipWhitespace())) {
      absl::StatusOr<std::string> address = AddressOfInterface(std::string(name));
      if (!address.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(source, ": ", address.status().message()));
      }
      chosen.push_back({std::string(name), *address, source, true});
    }
    if (chosen.empty()) return absl::InvalidArgumentError(source + ": no interface named");
    return absl::OkStatus();
  };
  if (const char* env = std::getenv("GLOO_SOCKET_IFNAME"); env != nullptr && *env != '\0') {
    ANN_RETURN_IF_ERROR(named(env, "$GLOO_SOCKET_IFNAME"));
    return chosen;
  }
  if (!options.interface.empty()) {
    ANN_RETURN_IF_ERROR(named(options.interface, "--dist_iface"));
    return chosen;
  }
  absl::StatusOr<std::string> local = LocalAddressTowards(options.master_address);
  std::string rule = absl::StrCat("the route to ", options.master_address);
  if (!local.ok()) {
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    absl::StatusOr<std::string> own = LocalAddressTowards(host);
    if (!own.ok()) {
      return absl::UnavailableError(
          absl::StrCat("rank ", options.rank, ": no local address to reach the master: ",
                       local.status().message(), "; this host's name ", own.status().message()));
    }
    local = own;
    rule = absl::StrCat("this host's name ", host, "; no route to ", options.master_address);
  }
  absl::StatusOr<std::string> name = InterfaceWithAddress(*local);
  chosen.push_back({name.ok() ? *name : "?", *local, rule, false});
  return chosen;
}

std::string Distributed::Peer(const std::string& what) const {
  for (const std::string& address : BracketedAddresses(what)) {
    std::vector<int> ranks;
    for (int r = 0; r < world_size_; ++r) {
      if (r != rank_ && rank_addresses_[r] == address) ranks.push_back(r);
    }
    if (ranks.size() == 1) return absl::StrCat("rank ", ranks[0], " (", address, ")");
  }
  if (world_size_ == 2) {
    const int peer = 1 - rank_;
    return absl::StrCat("rank ", peer, " (", rank_addresses_[peer], ")");
  }
  return "a peer";
}

absl::Status Distributed::Guard(const std::string& name, const std::function<void()>& op) {
  try {
    op();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    const std::string what = FirstLine(e);
    return absl::UnavailableError(absl::StrCat(
        "rank ", rank_, " (", rank_addresses_[rank_], "): ", name, " failed: ", Peer(what),
        " died, was cut off or did not answer within --dist_timeout=", timeout_s_,
        " s (Gloo: ", what, ")"));
  }
}

void Distributed::GuardOrThrow(const std::string& name, const std::function<void()>& op) {
  absl::Status status = Guard(name, op);
  if (status.ok()) return;
  if (failure_.ok()) failure_ = status;
  throw CollectiveError(std::string(status.message()));
}

Distributed::~Distributed() = default;

absl::StatusOr<std::unique_ptr<Distributed>> Distributed::Connect(const ConnectOptions& options) {
  const int rank = options.rank, world_size = options.world_size;
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rank: ", rank, " is not in [0, --world_size=", world_size, ")"));
  }
  std::unique_ptr<Distributed> d(new Distributed(rank, world_size, options.timeout_s));
  ANN_ASSIGN_OR_RETURN(d->interfaces_, ChooseGlooInterfaces(options));
  const std::string master = absl::StrCat(options.master_address, ":", options.master_port);
  std::vector<std::string> used;
  for (const GlooInterface& i : d->interfaces_) {
    used.push_back(absl::StrCat(i.name, " ", i.address, " (", i.rule, ")"));
  }
  LOG(INFO) << "rank " << rank << ": Gloo on " << absl::StrJoin(used, ", ") << "; master "
            << master;
  const std::string joining = absl::StrCat("rank ", rank, " (", d->interfaces_[0].address,
                                           "): cannot join the process group at ", master, ": ");
  const auto timeout = std::chrono::seconds(options.timeout_s);
  if (rank != 0) {
    // c10d's own connect() to an unreachable host can outlast the timeout by seconds.
    absl::Status reached =
        WaitForListener(options.master_address, options.master_port, options.timeout_s);
    if (!reached.ok()) {
      return absl::UnavailableError(absl::StrCat(joining,
                                                 "the master did not answer within "
                                                 "--dist_timeout=",
                                                 options.timeout_s,
                                                 " s (last attempt: ", reached.message(), ")"));
    }
  }
  QuietLibraryLogs quiet;
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(options.master_port);
    store_options.isServer = rank == 0;
    store_options.numWorkers = world_size;
    store_options.waitWorkers = false;  // the rendezvous below names the ranks that are missing
    store_options.timeout = timeout;
    d->impl_->store = c10::make_intrusive<c10d::TCPStore>(options.master_address, store_options);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat(joining,
                     rank == 0 ? "cannot host the rendezvous store: "
                               : absl::StrCat("the master did not answer within --dist_timeout=",
                                              options.timeout_s, " s: "),
                     FirstLine(e)));
  }
  // Each rank publishes its Gloo address; all wait for all, so that a rank that never comes is
  // named (and later failures can name the peer by its address).
  std::vector<std::string> keys;
  for (int r = 0; r < world_size; ++r) keys.push_back(RankKey(r));
  try {
    const std::string& address = d->interfaces_[0].address;
    d->impl_->store->set(RankKey(rank), std::vector<uint8_t>(address.begin(), address.end()));
    d->impl_->store->wait(keys, timeout);
    for (const std::string& key : keys) {
      const std::vector<uint8_t> value = d->impl_->store->get(key);
      d->rank_addresses_.emplace_back(value.begin(), value.end());
    }
  } catch (const std::exception& e) {
    std::vector<int> missing;
    try {
      for (int r = 0; r < world_size; ++r) {
        if (!d->impl_->store->check({RankKey(r)})) missing.push_back(r);
      }
    } catch (const std::exception&) {
      // The store itself is gone (rank 0 ended): say what the wait said.
    }
    if (missing.empty()) return absl::UnavailableError(joining + FirstLine(e));
    return absl::UnavailableError(absl::StrCat(
        joining, missing.size() == 1 ? "rank " : "ranks ", absl::StrJoin(missing, ", "),
        " did not join within --dist_timeout=", options.timeout_s, " s"));
  }
  try {
    auto group_options = c10d::ProcessGroupGloo::Options::create(timeout);
    for (const GlooInterface& i : d->interfaces_) {
      group_options->devices.push_back(
          i.named_by_user ? c10d::ProcessGroupGloo::createDeviceForInterface(i.name)
                          : c10d::ProcessGroupGloo::createDeviceForHostname(i.address));
    }
    group_options->threads = 1;
    d->impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(d->impl_->store, rank, world_size,
                                                                  group_options);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat(joining, "connecting the ranks' Gloo devices: ", FirstLine(e)));
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

absl::StatusOr<std::string> Distributed::TextFromRank0(const std::string& name,
                                                       const std::string& text) {
  const std::string key = "ann/text/" + name;
  std::string result = text;
  ANN_RETURN_IF_ERROR(Guard("sharing rank 0's " + name, [&] {
    if (rank_ == 0) {
      impl_->store->set(key, std::vector<uint8_t>(text.begin(), text.end()));
    } else {
      const std::vector<uint8_t> value = impl_->store->get(key);  // waits up to the timeout
      result.assign(value.begin(), value.end());
    }
  }));
  return result;
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
