// Side-by-side timing of one training step of ANN (forward of both heads in training mode,
// mmseg's loss, backward, SGD with momentum and weight decay): our C++ trainer's pieces against
// the same network trained in PyTorch eager (Debian's python3-torch), same threads, crop,
// batch, same run. Prints both times and the ratio.
//
//   bazel run //benchmarks:train_step_vs_pytorch -- --depth=50 --crop=512 --batch=2
#include <chrono>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "ann/model/segmentor.h"
#include "ann/train/loss.h"
#include "ann/train/sgd.h"
#include "ann/util/threads.h"
#include "gflags/gflags.h"
#include "torch/torch.h"

DEFINE_int32(depth, 50, "ResNet depth.");
DEFINE_int32(crop, 512, "Square crop size.");
DEFINE_int32(batch, 2, "Batch size.");
DEFINE_int32(runs, 2, "Timed steps after one warm-up.");
DEFINE_string(python, "/usr/bin/python3", "Python with torch for the eager reference.");
DEFINE_string(script, "benchmarks/train_step_pytorch.py", "The eager timing script.");

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const int threads = ann::SetNumThreadsFromFlags();
  torch::manual_seed(0);
  ann::ModelConfig config;
  config.depth = FLAGS_depth;
  ann::EncoderDecoder model(config);
  model->train();
  ann::Sgd sgd(ann::UniqueParameters(*model), 0.9, 5e-4);
  ann::TrainConfig recipe;
  torch::Tensor x = torch::randn({FLAGS_batch, 3, FLAGS_crop, FLAGS_crop});
  torch::Tensor y = torch::randint(0, 19, {FLAGS_batch, FLAGS_crop, FLAGS_crop}, torch::kLong);
  y.narrow(1, 0, 8).fill_(255);
  auto step = [&] {
    sgd.ZeroGrad();
    ann::LossTerms terms =
        ann::SegmentationLoss(model->forward(x), y, recipe, config.align_corners);
    terms.total.backward();
    sgd.Step(0.01);
  };
  step();  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < FLAGS_runs; ++i) step();
  const double ours_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
      FLAGS_runs;
  const std::string command = absl::StrCat(
      FLAGS_python, " ", FLAGS_script, " --depth ", FLAGS_depth, " --crop ", FLAGS_crop,
      " --batch ", FLAGS_batch, " --threads ", threads, " --runs ", FLAGS_runs);
  double pytorch_ms = -1;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    if (std::fscanf(pipe, "pytorch_ms %lf", &pytorch_ms) != 1) pytorch_ms = -1;
    pclose(pipe);
  }
  std::printf("ANN R-%d-D8 training step, batch %d of %dx%d, %d threads, mean of %d steps\n",
              FLAGS_depth, FLAGS_batch, FLAGS_crop, FLAGS_crop, threads, FLAGS_runs);
  std::printf("  C++ (ann):       %9.1f ms\n", ours_ms);
  if (pytorch_ms > 0) {
    std::printf("  PyTorch eager:   %9.1f ms\n", pytorch_ms);
    std::printf("  ratio PyTorch / C++: %.2fx\n", pytorch_ms / ours_ms);
  } else {
    std::printf("  PyTorch eager:   unavailable (%s)\n", command.c_str());
  }
  return 0;
}
