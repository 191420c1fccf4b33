// Side-by-side timing of one training step of ANN (forward of both heads in training mode,
// mmseg's loss, backward, SGD with momentum and weight decay): our C++ trainer's pieces in fp32
// and in bf16 mixed precision (--train_precision=bf16) against the same network trained in
// PyTorch eager fp32 and with torch.autocast('cpu', bfloat16) (Debian's python3-torch), same
// threads, crop, batch, same run (PyTorch bf16 also channels-last, its advice for CPUs). Prints the
// times (min and median of --runs steps) and the ratios to PyTorch eager fp32. The PyTorch peers
// run once as users run them and once under the malloc settings of our --keep_freed_memory ("kept
// malloc"), to show how much of the difference is memory reuse.
//
//   bazel run //benchmarks:train_step_vs_pytorch -- --depth=50 --crop=512 --batch=2
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ann/model/segmentor.h"
#include "ann/train/loss.h"
#include "ann/train/mixed_precision.h"
#include "ann/train/sgd.h"
#include "ann/util/cpu.h"
#include "ann/util/runtime.h"
#include "benchmarks/timing.h"
#include "gflags/gflags.h"
#include "torch/torch.h"

DEFINE_int32(depth, 50, "ResNet depth.");
DEFINE_int32(crop, 512, "Square crop size.");
DEFINE_int32(batch, 2, "Batch size.");
DEFINE_int32(runs, 2, "Timed steps after one warm-up.");
DEFINE_string(python, "/usr/bin/python3", "Python with torch for the eager reference.");
DEFINE_string(script, "benchmarks/train_step_pytorch.py", "The eager timing script.");

namespace {

using ann::bench::Summarise;
using ann::bench::Timing;

// Our trainer's step (TrainingForward, SegmentationLoss, backward, Sgd) in `precision`.
Timing TimeOurs(ann::Precision precision) {
  torch::manual_seed(0);
  ann::ModelConfig config;
  config.depth = FLAGS_depth;
  ann::EncoderDecoder model(config);
  model->train();
  ann::Sgd sgd(ann::UniqueParameters(*model), 0.9, 5e-4);
  ann::TrainConfig recipe;
  recipe.precision = precision;
  const torch::Tensor x = torch::randn({FLAGS_batch, 3, FLAGS_crop, FLAGS_crop});
  torch::Tensor y = torch::randint(0, 19, {FLAGS_batch, FLAGS_crop, FLAGS_crop}, torch::kLong);
  y.narrow(1, 0, 8).fill_(255);
  auto step = [&] {
    sgd.ZeroGrad();
    ann::LossTerms terms = ann::SegmentationLoss(ann::TrainingForward(model, x, precision), y,
                                                 recipe, config.align_corners);
    terms.total.backward();
    sgd.Step(0.01);
  };
  step();  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < FLAGS_runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    step();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  return Summarise(ms);
}

// The PyTorch peer: train_step_pytorch.py prints "pytorch_ms MIN MEDIAN". `keep_memory` runs it
// under the malloc settings of our --keep_freed_memory.
Timing TimePyTorch(int threads, bool bf16, bool keep_memory, bool channels_last = false) {
  const std::string command = absl::StrCat(
      keep_memory ? absl::StrCat("GLIBC_TUNABLES=", ann::kKeepFreedMemoryTunables, " ") : "",
      FLAGS_python, " ", FLAGS_script, " --depth ", FLAGS_depth, " --crop ", FLAGS_crop,
      " --batch ", FLAGS_batch, " --threads ", threads, " --runs ", FLAGS_runs,
      bf16 ? " --bf16" : "", channels_last ? " --channels_last" : "");
  Timing t;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    if (std::fscanf(pipe, "pytorch_ms %lf %lf", &t.min_ms, &t.median_ms) != 2) t = Timing();
    pclose(pipe);
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const int threads = ann::SetUpRuntimeFromFlags();
  const bool bf16 = ann::CpuHasBf16();
  std::printf("%s\n", ann::CpuDescription(threads).c_str());
  std::printf("ANN R-%d-D8 training step, batch %d of %dx%d, %d threads, %d timed steps\n",
              FLAGS_depth, FLAGS_batch, FLAGS_crop, FLAGS_crop, threads, FLAGS_runs);
  std::fflush(stdout);
  const Timing eager = TimePyTorch(threads, false, false);
  struct Row {
    const char* name;
    Timing t;
  };
  std::vector<Row> rows = {{"PyTorch eager fp32", eager}};
  if (bf16) rows.push_back({"PyTorch bf16 autocast", TimePyTorch(threads, true, false)});
  if (bf16) {
    rows.push_back(
        {"PyTorch bf16 autocast, channels-last", TimePyTorch(threads, true, false, true)});
  }
  rows.push_back({"PyTorch eager fp32, kept malloc", TimePyTorch(threads, false, true)});
  if (bf16) rows.push_back({"PyTorch bf16, kept malloc", TimePyTorch(threads, true, true)});
  rows.push_back({"ann fp32", TimeOurs(ann::Precision::kFp32)});
  if (bf16) rows.push_back({"ann bf16 (mixed)", TimeOurs(ann::Precision::kBf16)});
  std::printf("  %-38s %10s %10s %18s\n", "peer", "min ms", "median ms", "vs eager fp32 (min)");
  for (const Row& r : rows) {
    if (r.t.min_ms <= 0) {
      std::printf("  %-38s unavailable\n", r.name);
      continue;
    }
    std::printf("  %-38s %10.1f %10.1f %17.2fx\n", r.name, r.t.min_ms, r.t.median_ms,
                eager.min_ms > 0 ? eager.min_ms / r.t.min_ms : 0.0);
  }
  if (!bf16) std::printf("  (no bf16 rows: this CPU has no bf16 arithmetic)\n");
  return 0;
}
