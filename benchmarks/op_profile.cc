// Where the time goes: LibTorch's profiler over one ANN forward (as loaded, or its inference
// form in fp32 / bf16) or one training step (forward of both heads, mmseg's loss, backward,
// SGD), after one warm-up. Prints one row per operator with its self time (the time inside it
// less the operators it called), calls and share, largest first; with --by_shape, one row per
// operator and input shapes. Random weights: the kernels' cost does not depend on the values.
//
//   bazel run //benchmarks:op_profile -- --mode=fp32 --height=512 --width=1024
//   bazel run //benchmarks:op_profile -- --mode=train_fp32 --height=512 --width=512 --batch=2
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ann/inference/dnnl_executor.h"
#include "ann/inference/inference_form.h"
#include "ann/model/segmentor.h"
#include "ann/quant/int8_executor.h"
#include "ann/train/loss.h"
#include "ann/train/mixed_precision.h"
#include "ann/train/sgd.h"
#include "ann/util/cpu.h"
#include "ann/util/flags.h"
#include "ann/util/runtime.h"
#include "gflags/gflags.h"
#include "torch/csrc/autograd/profiler_legacy.h"
#include "torch/torch.h"

DEFINE_string(mode, "fp32",
              "exact | fp32 | bf16 (inference: the model as loaded, or its inference form) | "
              "int8 (calibrated on the input) | "
              "train_fp32 | train_bf16 (one training step).");
DEFINE_int32(depth, 50, "ResNet depth.");
DEFINE_int32(height, 512, "Input height.");
DEFINE_int32(width, 1024, "Input width.");
DEFINE_int32(batch, 1, "Batch size.");
DEFINE_int32(rows, 30, "Rows to print.");
DEFINE_bool(by_shape, false, "One row per operator and input shapes.");

namespace {

namespace prof = torch::autograd::profiler;

enum class Mode { kExact, kFp32, kBf16, kInt8, kTrainFp32, kTrainBf16 };

struct Row {
  double self_us = 0;
  int64_t calls = 0;
};

std::string Shapes(const prof::LegacyEvent& e) {
  std::vector<std::string> parts;
  for (const auto& shape : e.shapes()) {
    if (!shape.empty()) parts.push_back(absl::StrCat("[", absl::StrJoin(shape, ","), "]"));
  }
  return absl::StrJoin(parts, " ");
}

// Self time per operator: each range's time less the ranges nested directly inside it, per
// thread.
std::map<std::string, Row> SelfTimes(const prof::thread_event_lists& lists, double* total_us) {
  std::map<std::string, Row> rows;
  *total_us = 0;
  for (const auto& list : lists) {
    struct Open {
      const prof::LegacyEvent* push;
      double children_us;
    };
    std::vector<Open> stack;
    for (const auto& e : list) {
      if (e.kindStr() == "push") {
        stack.push_back({&e, 0});
      } else if (e.kindStr() == "pop" && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double us = open.push->cpuElapsedUs(e);
        std::string key = open.push->name();
        if (FLAGS_by_shape) absl::StrAppend(&key, " ", Shapes(*open.push));
        Row& row = rows[key];
        row.self_us += us - open.children_us;
        ++row.calls;
        if (stack.empty()) {
          *total_us += us;
        } else {
          stack.back().children_us += us;
        }
      }
    }
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  absl::StatusOr<Mode> mode = ann::ParseEnumFlag<Mode>("mode", FLAGS_mode,
                                                       {{"exact", Mode::kExact},
                                                        {"fp32", Mode::kFp32},
                                                        {"bf16", Mode::kBf16},
                                                        {"int8", Mode::kInt8},
                                                        {"train_fp32", Mode::kTrainFp32},
                                                        {"train_bf16", Mode::kTrainBf16}});
  absl::Status status = mode.status();
  const bool bf16 = mode.ok() && (*mode == Mode::kBf16 || *mode == Mode::kTrainBf16);
  if (bf16) status = ann::CheckBf16Flag("mode");
  if (mode.ok() && *mode == Mode::kInt8) status = ann::CheckInt8Flag("mode");
  if (!status.ok()) return ann::ExitCode(status);
  const int threads = ann::SetUpRuntimeFromFlags();
  torch::manual_seed(0);
  ann::ModelConfig config;
  config.depth = FLAGS_depth;
  ann::EncoderDecoder model(config);
  const torch::Tensor x = torch::randn({FLAGS_batch, 3, FLAGS_height, FLAGS_width});
  std::function<void()> run;
  std::unique_ptr<ann::Sgd> sgd;
  std::unique_ptr<ann::Int8Executor> engine;
  std::unique_ptr<ann::DnnlExecutor> executor;
  ann::TrainConfig recipe;
  torch::Tensor labels;
  if (*mode == Mode::kTrainFp32 || *mode == Mode::kTrainBf16) {
    model->train();
    sgd = std::make_unique<ann::Sgd>(ann::UniqueParameters(*model), 0.9, 5e-4);
    recipe.precision = bf16 ? ann::Precision::kBf16 : ann::Precision::kFp32;
    labels = torch::randint(0, 19, {FLAGS_batch, FLAGS_height, FLAGS_width}, torch::kLong);
    run = [&] {
      sgd->ZeroGrad();
      ann::SegmentationLoss(ann::TrainingForward(model, x, recipe.precision), labels, recipe,
                            config.align_corners)
          .total.backward();
      sgd->Step(0.01);
    };
  } else if (*mode == Mode::kInt8) {
    model->eval();
    engine = std::make_unique<ann::Int8Executor>(ann::InferenceGraph(*model));
    engine->Observe(x);
    engine->Quantize(engine->calibration(), ann::Observer::kMinMax);
    run = [&] {
      torch::NoGradGuard no_grad;
      engine->Predict(x);
    };
  } else {
    model->eval();
    if (*mode != Mode::kExact) {
      executor = std::make_unique<ann::DnnlExecutor>(
          ann::InferenceGraph(*model), bf16 ? ann::Precision::kBf16 : ann::Precision::kFp32);
    }
    run = [&] {
      torch::NoGradGuard no_grad;
      if (executor) {
        executor->Predict(x);
      } else {
        model->Predict(x);
      }
    };
  }
  run();  // warm-up: oneDNN builds its kernels, memory reaches its peak
  prof::enableProfilerLegacy(prof::ProfilerConfig(prof::ProfilerState::CPU,
                                                  /*report_input_shapes=*/FLAGS_by_shape));
  run();
  double total_us = 0;
  const std::map<std::string, Row> rows = SelfTimes(prof::disableProfilerLegacy(), &total_us);
  std::vector<std::pair<std::string, Row>> sorted(rows.begin(), rows.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second.self_us > b.second.self_us; });
  std::printf("%s\n", ann::CpuDescription(threads).c_str());
  std::printf("ANN R-%d-D8 %s, batch %d of %dx%d, %d threads: %.1f ms profiled\n", FLAGS_depth,
              FLAGS_mode.c_str(), FLAGS_batch, FLAGS_width, FLAGS_height, threads, total_us / 1000);
  std::printf("%-60s %10s %7s %7s\n", "operator", "self ms", "share", "calls");
  for (int i = 0; i < std::min<int>(FLAGS_rows, sorted.size()); ++i) {
    const auto& [name, row] = sorted[i];
    std::printf("%-60s %10.1f %6.1f%% %7lld\n", name.substr(0, 60).c_str(), row.self_us / 1000,
                100 * row.self_us / total_us, static_cast<long long>(row.calls));
  }
  return 0;
}
