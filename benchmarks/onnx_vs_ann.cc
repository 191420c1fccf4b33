// ONNX Runtime (CPU, all graph optimisations, the same intra-op threads) on our exported files
// next to ann's inference, side by side in one run: the same weights (random, as
// ann_init_checkpoint initialises them, with non-zero attention), the same input, whole-image
// R-50 (or --depth) at --width x --height. ann is timed in-process (exact, and the inference
// form in fp32, bf16 where the CPU has it, and int8 where it has AVX2); ONNX Runtime through
// tests/ort/run_onnx.js (npm's onnxruntime-node, which ./setup.sh installs), timing only
// session.run, on the fp32 file and on the int8 QDQ file (ann_export --precision=int8) made with
// the same calibration as ann's int8 (the float forward observed on the input and a second
// random image). Prints the CPU, min / median ms and ratios to each runtime's file, and ORT's
// error against ann (fp32 file: relative error of the logits against exact; QDQ file: argmax
// agreement with ann's int8).
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
#include "ann/quant/int8_executor.h"
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

namespace {

struct OrtRun {
  std::vector<double> ms;     // each timed session.run
  std::vector<float> logits;  // the first output
};

// ONNX Runtime (tests/ort/run_onnx.js) on `model` with the [1, 3, H, W] input file.
absl::StatusOr<OrtRun> RunOrt(const std::string& model, const std::string& input,
                              const std::string& prefix, int threads, int64_t logits_count) {
  const std::string command =
      absl::StrCat("node ", FLAGS_node_script, " ", model, " ", input, " 1,3,", FLAGS_height, ",",
                   FLAGS_width, " ", prefix, " ", threads, " ", FLAGS_runs);
  std::string json;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    while (std::fgets(buffer, sizeof(buffer), pipe)) json += buffer;
    pclose(pipe);
  }
  const size_t at = json.find("\"times\":[");
  if (at == std::string::npos) {
    return absl::UnavailableError(
        absl::StrCat(command,
                     ": no ONNX Runtime timings (npm's onnxruntime-node missing? ./setup.sh "
                     "installs it; NODE_PATH=$(npm root -g))"));
  }
  OrtRun run;
  const std::string list = json.substr(at + 9, json.find(']', at) - at - 9);
  for (absl::string_view t : absl::StrSplit(list, ',')) {
    run.ms.push_back(std::stod(std::string(t)) * 1e3);
  }
  run.logits.resize(logits_count);
  std::ifstream logits_file(prefix + ".logits.bin", std::ios::binary);
  logits_file.read(reinterpret_cast<char*>(run.logits.data()),
                   static_cast<std::streamsize>(run.logits.size() * sizeof(float)));
  if (!logits_file) return absl::DataLossError(absl::StrCat(prefix, ".logits.bin: too short"));
  return run;
}

}  // namespace

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
  auto fail = [&](const absl::Status& status) {
    std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
    std::filesystem::remove_all(dir);
    return 1;
  };
  const std::string onnx = dir + "/model.onnx", input = dir + "/input.f32";
  const int64_t logits_count =
      static_cast<int64_t>(config.model.num_classes) * FLAGS_height * FLAGS_width;
  ann::OnnxExportOptions options;
  options.dynamic = true;
  absl::StatusOr<std::string> exported = ann::ExportOnnx(model, config, options, onnx);
  if (!exported.ok()) return fail(exported.status());
  const torch::Tensor x = torch::randn({1, 3, FLAGS_height, FLAGS_width});
  std::ofstream(input, std::ios::binary)
      .write(static_cast<const char*>(x.data_ptr()), static_cast<std::streamsize>(x.nbytes()));

  // ONNX Runtime first (its own process), then ann.
  absl::StatusOr<OrtRun> ort_fp32 = RunOrt(onnx, input, dir + "/ort", threads, logits_count);
  if (!ort_fp32.ok()) return fail(ort_fp32.status());
  const std::vector<double>& ort_ms = ort_fp32->ms;
  std::vector<float>& ort_logits = ort_fp32->logits;

  std::vector<std::pair<std::string, Timing>> peers = {
      {"onnxruntime fp32 file (all optimisations)", Summarise(ort_ms)}};
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
  // int8: ann's calibration of this model, its QDQ export, ONNX Runtime on it.
  std::string int8_summary;
  if (ann::CheckInt8Flag("precision").ok()) {
    ann::Int8Executor int8(graph);
    int8.Observe(x);
    int8.Observe(torch::randn_like(x));
    auto calibration = std::make_shared<ann::Calibration>(int8.calibration());
    int8.Quantize(*calibration, ann::Observer::kMinMax);
    options.calibration = calibration;
    const std::string qdq = dir + "/model_int8.onnx";
    absl::StatusOr<std::string> exported_int8 = ann::ExportOnnx(model, config, options, qdq);
    if (!exported_int8.ok()) return fail(exported_int8.status());
    absl::StatusOr<OrtRun> ort_int8 = RunOrt(qdq, input, dir + "/ort8", threads, logits_count);
    if (!ort_int8.ok()) return fail(ort_int8.status());
    peers.emplace_back("onnxruntime int8 QDQ file (all optimisations)", Summarise(ort_int8->ms));
    const torch::Tensor ann_int8 = int8.Predict(x);
    peers.emplace_back("ann --precision=int8", Time([&] { int8.Predict(x); }, FLAGS_runs));
    const torch::Tensor ort_labels =
        torch::from_blob(ort_int8->logits.data(), exact.sizes(), torch::kFloat).argmax(1);
    int8_summary = absl::StrCat(
        "ONNX Runtime's QDQ file vs ann int8: argmax agreement ",
        100 * ort_labels.eq(ann_int8.argmax(1)).to(torch::kDouble).mean().item<double>(),
        "%; vs ann exact: ",
        100 * ort_labels.eq(exact.argmax(1)).to(torch::kDouble).mean().item<double>(), "%; ",
        *exported_int8);
  }
  auto find = [&](const std::string& prefix) {
    for (const auto& [name, t] : peers) {
      if (name.rfind(prefix, 0) == 0) return t.min_ms;
    }
    return -1.0;
  };
  const double ort_min = peers[0].second.min_ms;
  std::printf("%s\n", ann::CpuDescription(threads).c_str());
  std::printf("ANN R-%d-D8 %dx%d, %d threads, min / median of %d runs; %s\n", config.model.depth,
              FLAGS_width, FLAGS_height, threads, FLAGS_runs, exported->c_str());
  std::printf("%-40s %10s %10s %14s\n", "peer", "min ms", "median ms", "vs ONNX Runtime");
  for (const auto& [name, t] : peers) {
    std::printf("%-40s %10.1f %10.1f %13.2fx\n", name.c_str(), t.min_ms, t.median_ms,
                ort_min / t.min_ms);
  }
  std::printf("ONNX Runtime's fp32 file vs ann exact: max relative error %.2e\n", ort_error);
  const double ort_int8 = find("onnxruntime int8"), ann_int8 = find("ann --precision=int8");
  if (ann_int8 > 0) {
    std::printf("ann int8 is %.2fx ONNX Runtime on the QDQ file, %.2fx ann fp32\n",
                ort_int8 / ann_int8, find("ann --precision=fp32") / ann_int8);
    std::printf("%s\n", int8_summary.c_str());
  } else {
    std::printf("int8: not run (this CPU has no AVX2)\n");
  }
  std::filesystem::remove_all(dir);
  return 0;
}
