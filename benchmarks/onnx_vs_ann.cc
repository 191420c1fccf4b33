// ONNX Runtime (CPU, all graph optimisations, the same intra-op threads) on our exported file
// next to ann's inference, side by side in one run: the same weights (random, as
// ann_init_checkpoint initialises them, with non-zero attention), the same input, whole-image
// R-50 (or --depth) at --width x --height. ann is timed in-process (exact, and the inference
// form in fp32 and bf16, as ann_test --precision runs it); ONNX Runtime through
// tests/ort/run_onnx.js (npm's onnxruntime-node, which ./setup.sh installs), timing only
// session.run. Prints min / median ms and ratios to ONNX Runtime, file size, and ORT's error
// against ann exact.
//
//   bazel run //benchmarks:onnx_vs_ann -- --depth=50 --width=1024 --height=512 --runs=3
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ann/config/config.h"
#include "ann/export/onnx_export.h"
#include "ann/inference/dnnl_executor.h"
#include "ann/inference/inference_form.h"
#include "ann/model/segmentor.h"
#include "ann/util/cpu.h"
#include "ann/util/runtime.h"
#include "benchmarks/timing.h"
#include "gflags/gflags.h"
#include "torch/torch.h"

DEFINE_int32(height, 512, "Input height.");
DEFINE_int32(width, 1024, "Input width.");
DEFINE_int32(runs, 3, "Timed runs per peer after one warm-up (min and median reported).");
DEFINE_string(node_script, "tests/ort/run_onnx.js", "The ONNX Runtime runner.");

using ann::bench::Summarise;
using ann::bench::Time;
using ann::bench::Timing;

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const int threads = ann::SetUpRuntimeFromFlags();
  torch::NoGradGuard no_grad;
  ann::Config config;
  absl::StatusOr<ann::ModelConfig> model_config = ann::ModelConfigFromFlags();  // --depth etc.
  if (!model_config.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(model_config.status().message()).c_str());
    return 2;
  }
  config.model = *model_config;
  ann::EncoderDecoder model(config.model);
  torch::manual_seed(0);
  model->InitWeights();
  // Non-zero attention (InitWeights starts the blocks as pass-throughs) and BN statistics.
  for (auto& p : model->named_parameters()) {
    if (p.key().find("out_project") != std::string::npos) p.value().normal_(0, 0.01);
  }
  model->eval();
  const std::string dir =
      std::filesystem::temp_directory_path() / absl::StrCat("onnx_vs_ann.", getpid());
  std::filesystem::create_directories(dir);
  const std::string onnx = dir + "/model.onnx", input = dir + "/input.f32";
  ann::OnnxExportOptions options;
  options.dynamic = true;
  absl::StatusOr<std::string> exported = ann::ExportOnnx(model, config, options, onnx);
  if (!exported.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(exported.status().message()).c_str());
    return 1;
  }
  const torch::Tensor x = torch::randn({1, 3, FLAGS_height, FLAGS_width});
  std::ofstream(input, std::ios::binary)
      .write(static_cast<const char*>(x.data_ptr()), static_cast<std::streamsize>(x.nbytes()));

  // ONNX Runtime first (its own process), then ann.
  const std::string command =
      absl::StrCat("node ", FLAGS_node_script, " ", onnx, " ", input, " 1,3,", FLAGS_height, ",",
                   FLAGS_width, " ", dir, "/ort ", threads, " ", FLAGS_runs);
  std::string json;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    while (std::fgets(buffer, sizeof(buffer), pipe)) json += buffer;
    pclose(pipe);
  }
  std::vector<double> ort_ms;
  const size_t at = json.find("\"times\":[");
  if (at == std::string::npos) {
    std::fprintf(stderr,
                 "error: %s: no ONNX Runtime timings (npm's onnxruntime-node missing? "
                 "./setup.sh installs it; NODE_PATH=$(npm root -g))\n",
                 command.c_str());
    return 1;
  }
  const std::string list = json.substr(at + 9, json.find(']', at) - at - 9);
  for (absl::string_view t : absl::StrSplit(list, ','))
    ort_ms.push_back(std::stod(std::string(t)) * 1e3);
  std::ifstream logits_file(dir + "/ort.logits.bin", std::ios::binary);
  std::vector<float> ort_logits(static_cast<size_t>(19) * FLAGS_height * FLAGS_width);
  logits_file.read(reinterpret_cast<char*>(ort_logits.data()),
                   static_cast<std::streamsize>(ort_logits.size() * sizeof(float)));

  std::vector<std::pair<std::string, Timing>> peers = {
      {"onnxruntime_fp32 (all optimisations)", Summarise(ort_ms)}};
  const torch::Tensor exact = model->Predict(x);
  const torch::Tensor ort =
      torch::from_blob(ort_logits.data(), exact.sizes(), torch::kFloat).clone();
  const double ort_error = ((ort - exact).abs().max() / exact.abs().max()).item<double>();
  peers.emplace_back("ann --precision=exact", Time([&] { model->Predict(x); }, FLAGS_runs));
  const ann::Graph graph = ann::InferenceGraph(*model);
  const ann::DnnlExecutor fp32(graph, ann::Precision::kFp32);
  peers.emplace_back("ann --precision=fp32", Time([&] { fp32.Predict(x); }, FLAGS_runs));
  if (ann::CpuHasBf16()) {
    const ann::DnnlExecutor bf16(graph, ann::Precision::kBf16);
    peers.emplace_back("ann --precision=bf16", Time([&] { bf16.Predict(x); }, FLAGS_runs));
  }
  const double ort_min = peers[0].second.min_ms;
  std::printf("ANN R-%d-D8 %dx%d, %d threads, min / median of %d runs; %s\n", config.model.depth,
              FLAGS_width, FLAGS_height, threads, FLAGS_runs, exported->c_str());
  std::printf("%-40s %10s %10s %14s\n", "peer", "min ms", "median ms", "vs ONNX Runtime");
  for (const auto& [name, t] : peers) {
    std::printf("%-40s %10.1f %10.1f %13.2fx\n", name.c_str(), t.min_ms, t.median_ms,
                ort_min / t.min_ms);
  }
  std::printf("ONNX Runtime vs ann exact: max relative error %.2e\n", ort_error);
  std::filesystem::remove_all(dir);
  return 0;
}
