// Side-by-side timing of whole-image ANN inference: our C++ EncoderDecoder against the same
// network in PyTorch eager (Debian's python3-torch, tests/python/ann_reference.py), same
// threads, same input size, same run. Prints both times and the ratio.
//
//   bazel run -c opt //benchmarks:forward_vs_pytorch -- --depth=50 --height=512 --width=1024
#include <chrono>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "ann/model/segmentor.h"
#include "ann/util/threads.h"
#include "gflags/gflags.h"
#include "torch/torch.h"

DEFINE_int32(depth, 50, "ResNet depth.");
DEFINE_int32(height, 512, "Input height.");
DEFINE_int32(width, 1024, "Input width.");
DEFINE_int32(runs, 3, "Timed runs after one warm-up.");
DEFINE_string(python, "/usr/bin/python3", "Python with torch for the eager reference.");
DEFINE_string(script, "benchmarks/forward_pytorch.py", "The eager timing script.");

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const int threads = ann::SetNumThreadsFromFlags();
  ann::ModelConfig config;
  config.depth = FLAGS_depth;
  ann::EncoderDecoder model(config);
  model->eval();
  torch::Tensor x = torch::randn({1, 3, FLAGS_height, FLAGS_width});
  double ours_ms;
  {
    torch::InferenceMode guard;
    model->Predict(x);  // warm-up
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < FLAGS_runs; ++i) model->Predict(x);
    ours_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count() /
              FLAGS_runs;
  }
  const std::string command = absl::StrCat(
      FLAGS_python, " ", FLAGS_script, " --depth ", FLAGS_depth, " --height ", FLAGS_height,
      " --width ", FLAGS_width, " --threads ", threads, " --runs ", FLAGS_runs);
  double pytorch_ms = -1;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    if (std::fscanf(pipe, "pytorch_ms %lf", &pytorch_ms) != 1) pytorch_ms = -1;
    pclose(pipe);
  }
  std::printf("ANN R-%d-D8 forward %dx%d, %d threads, mean of %d runs\n", FLAGS_depth, FLAGS_height,
              FLAGS_width, threads, FLAGS_runs);
  std::printf("  ann (C++):      %9.1f ms\n", ours_ms);
  if (pytorch_ms > 0) {
    std::printf("  PyTorch eager:  %9.1f ms\n", pytorch_ms);
    std::printf("  ratio (PyTorch / ann): %.2fx\n", pytorch_ms / ours_ms);
  } else {
    std::printf("  PyTorch eager:  unavailable (%s)\n", command.c_str());
  }
  return 0;
}
