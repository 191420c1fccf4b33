// Gradient all-reduce of ANN R-50-D8 (or --depth) over loopback Gloo, as ann_train does it
// (GradientReducer: 25 MB buckets), for several process counts in one run: the measured time
// per step and the ring's bus bandwidth 2 (N - 1) / N x bytes / time. With the step time of
// benchmarks/train_step_vs_pytorch this gives the communication share of a data-parallel step.
//
//   bazel run //benchmarks:allreduce_loopback -- --worlds=2,4,8 --runs=5
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "ann/model/segmentor.h"
#include "ann/train/distributed.h"
#include "ann/train/launcher.h"
#include "ann/train/sgd.h"
#include "ann/util/cpu.h"
#include "ann/util/flags.h"
#include "gflags/gflags.h"
#include "torch/torch.h"

DEFINE_int32(depth, 50, "ResNet depth of the model whose gradients are reduced.");
DEFINE_string(worlds, "2,4,8", "Process counts to measure.");
DEFINE_int32(runs, 5, "Timed all-reduces per process count (after one warm-up).");
DEFINE_int32(bucket_mb, 25, "Bucket size in MB (DDP's default is 25).");
// Set by the launcher for each rank.
DEFINE_int32(rank, -1, "This process's rank (set by the launcher).");
DEFINE_int32(world_size, 1, "Number of processes (set by the launcher).");
DEFINE_int32(dist_port, 0, "Rendezvous port (set by the launcher).");
DEFINE_int32(nproc, 1, "Processes to launch (set by the launcher).");

namespace {

int RunRank() {
  torch::set_num_threads(1);
  ann::ModelConfig config;
  config.depth = FLAGS_depth;
  ann::EncoderDecoder model(config);
  ann::ConnectOptions options;
  options.rank = FLAGS_rank;
  options.world_size = FLAGS_world_size;
  options.master_port = FLAGS_dist_port;
  auto dist = ann::Distributed::Connect(options);
  if (!dist.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(dist.status().message()).c_str());
    return 1;
  }
  ann::GradientReducer reducer(**dist, ann::UniqueParameters(*model),
                               static_cast<int64_t>(FLAGS_bucket_mb) << 20);
  std::vector<double> ms;
  for (int i = 0; i <= FLAGS_runs; ++i) {
    absl::StatusOr<double> seconds = reducer.TimeBlocking();
    if (!seconds.ok()) return 1;
    if (i > 0) ms.push_back(*seconds * 1e3);
  }
  std::sort(ms.begin(), ms.end());
  if (FLAGS_rank == 0) {
    const double mb = reducer.bytes() / 1e6, n = FLAGS_world_size;
    const double median = ms[ms.size() / 2];
    std::printf(
        "%2d processes: %.1f MB in %d buckets: min %.1f ms, median %.1f ms; bus bandwidth %.2f "
        "GB/s\n",
        FLAGS_world_size, mb, reducer.buckets(), ms.front(), median,
        2 * (n - 1) / n * mb / 1e3 / (ms.front() / 1e3));
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> command(argv, argv + argc);
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_rank >= 0) return RunRank();
  absl::StatusOr<std::vector<int64_t>> worlds =
      ann::ParseIntListFlag("worlds", FLAGS_worlds, 1, SIZE_MAX, /*min_value=*/2);
  if (!worlds.ok()) return ann::ExitCode(worlds.status());
  std::printf("%s per rank\n", ann::CpuDescription(1).c_str());
  std::printf("gradient all-reduce over loopback Gloo, ANN R-%d-D8, %d MB buckets, %d runs\n",
              FLAGS_depth, FLAGS_bucket_mb, FLAGS_runs);
  std::fflush(stdout);
  for (const int64_t world : *worlds) {
    if (ann::LaunchLocalRanks(command, static_cast<int>(world), 0) != 0) return 1;
  }
  return 0;
}
