#include "ann/train/distributed.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
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

absl::Status Distributed::AverageGradients(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad().reshape({-1}));
  }
  std::vector<torch::Tensor> flat = {torch::cat(grads)};
  absl::Status status =
      Guard("gradient all-reduce", [&] { impl_->group->allreduce(flat)->wait(); });
  if (!status.ok()) return status;
  flat[0].div_(world_size_);
  int64_t offset = 0;
  for (const torch::Tensor& p : params) {
    if (!p.grad().defined()) continue;
    const int64_t n = p.grad().numel();
    p.mutable_grad().copy_(flat[0].narrow(0, offset, n).view_as(p.grad()));
    offset += n;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<double>> Distributed::SumScalars(const std::vector<double>& values) {
  std::vector<torch::Tensor> t = {torch::tensor(values, torch::kFloat64)};
  absl::Status status = Guard("all-reduce", [&] { impl_->group->allreduce(t)->wait(); });
  if (!status.ok()) return status;
  return std::vector<double>(t[0].data_ptr<double>(), t[0].data_ptr<double>() + values.size());
}

absl::Status Distributed::Barrier() {
  return Guard("barrier", [&] { impl_->group->barrier()->wait(); });
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
