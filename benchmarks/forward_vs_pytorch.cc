// Side-by-side timing of whole-image ANN inference, one binary, one run: our model as loaded
// (exact), its inference graph in fp32 and bf16 (ann/inference/dnnl_executor.h), our int8
// (ann/quant, calibrated on the input), and every PyTorch configuration
// (benchmarks/forward_pytorch.py through Debian's python3-torch: eager, channels-last,
// jit.freeze, bf16 autocast, bf16 autocast channels-last, FX int8 on the onednn engine calibrated
// on the same input), same weights (Python writes them, we load them), same input, same threads;
// PyTorch eager and its best peer also under the malloc settings of our --keep_freed_memory
// (GLIBC_TUNABLES). Also measured in the same run: the machine's sgemm (2048^3) and
// 3x3-convolution throughput in fp32, bf16 and int8 (LibTorch's onednn engine), as limits.
// Prints min and median per peer, GFLOP/s (2 x MACs / s), ratios to PyTorch eager fp32, and our
// fast paths' error against our exact path.
//
//   bazel run -c opt //benchmarks:forward_vs_pytorch -- --depth=50 --height=512 --width=1024
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ann/efficiency/flops.h"
#include "ann/inference/dnnl_executor.h"
#include "ann/inference/inference_form.h"
#include "ann/io/checkpoint.h"
#include "ann/model/segmentor.h"
#include "ann/quant/calibration.h"
#include "ann/quant/int8_conv.h"
#include "ann/quant/int8_executor.h"
#include "ann/quant/qops.h"
#include "ann/util/cpu.h"
#include "ann/util/runtime.h"
#include "benchmarks/timing.h"
#include "gflags/gflags.h"
#include "torch/torch.h"

DEFINE_int32(depth, 50, "ResNet depth.");
DEFINE_int32(height, 512, "Input height.");
DEFINE_int32(width, 1024, "Input width.");
DEFINE_int32(runs, 3, "Timed runs per peer after one warm-up (min and median reported).");
DEFINE_string(python, "/usr/bin/python3", "Python with torch for the PyTorch peers.");
DEFINE_string(script, "benchmarks/forward_pytorch.py", "The PyTorch timing script.");

using ann::bench::Time;
using ann::bench::Timing;

namespace {

// GFLOP/s of `fn` doing `macs` multiply-adds (best of 3).
double Gflops(const std::function<void()>& fn, double macs) {
  return 2 * macs / (Time(fn, 3).min_ms * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const int threads = ann::SetUpRuntimeFromFlags();
  torch::InferenceMode guard;
  const bool bf16 = ann::CpuHasBf16();
  const bool int8 = ann::CpuHasInt8Dot();

  // Limits of this machine, measured now.
  const torch::Tensor a = torch::randn({2048, 2048}), b = torch::randn({2048, 2048});
  const double sgemm = Gflops([&] { torch::mm(a, b); }, 2048.0 * 2048 * 2048);
  const auto cl = torch::MemoryFormat::ChannelsLast;
  torch::Tensor cx = torch::randn({1, 256, 128, 128}).contiguous(cl);
  torch::Tensor cw = torch::randn({256, 256, 3, 3}).contiguous(cl);
  const double conv_macs = 256.0 * 256 * 9 * 128 * 128;
  const double conv_fp32 = Gflops([&] { torch::conv2d(cx, cw, {}, 1, 1); }, conv_macs);
  double conv_bf16 = 0;
  if (bf16) {
    torch::Tensor bx = cx.to(torch::kBFloat16), bw = cw.to(torch::kBFloat16);
    conv_bf16 = Gflops([&] { torch::conv2d(bx, bw, {}, 1, 1); }, conv_macs);
  }
  double conv_int8 = 0;
  if (int8) {
    const torch::Tensor qx = ann::QuantizeUint8(cx.abs(), 0.02, 0);
    const ann::Int8Conv conv(cw, {}, {1, 1}, {1, 1}, {1, 1});
    conv_int8 = Gflops([&] { conv.Forward(qx, /*relu=*/false, {0.5, 128}); }, conv_macs);
  }

  // The PyTorch peers (they also write the weights we load); then PyTorch's eager and best
  // peers again under the malloc settings our binaries use (--keep_freed_memory), to show how
  // much of the difference is memory reuse.
  const std::string checkpoint = "/tmp/forward_vs_pytorch." + std::to_string(getpid()) + ".pth";
  const std::string command = absl::StrCat(
      FLAGS_python, " ", FLAGS_script, " --depth ", FLAGS_depth, " --height ", FLAGS_height,
      " --width ", FLAGS_width, " --threads ", threads, " --runs ", FLAGS_runs);
  std::vector<std::pair<std::string, Timing>> peers;
  auto run_peers = [&](const std::string& command) {
    if (FILE* pipe = popen(command.c_str(), "r")) {
      char name[128];
      Timing t;
      while (std::fscanf(pipe, "%127s %lf %lf", name, &t.min_ms, &t.median_ms) == 3) {
        peers.emplace_back(name, t);
      }
      pclose(pipe);
    }
  };
  run_peers(absl::StrCat(command, " --checkpoint ", checkpoint,
                         " --peers pytorch_eager_fp32,pytorch_channels_last_fp32,",
                         "pytorch_jit_freeze_fp32,pytorch_bf16_autocast,",
                         "pytorch_bf16_autocast_channels_last"));
  if (peers.empty()) {
    std::fprintf(stderr, "error: %s: no PyTorch timings\n", command.c_str());
    return 1;
  }
  run_peers(absl::StrCat("GLIBC_TUNABLES=", ann::kKeepFreedMemoryTunables, " ", command,
                         " --peers pytorch_eager_fp32,pytorch_bf16_autocast_channels_last",
                         " --suffix _keep_freed_memory"));
  // PyTorch's int8 at its default (AVX2) kernels: at ATEN_CPU_CAPABILITY=avx512 (which our
  // runtime sets, and children inherit) LibTorch 1.13's quantized bilinear upsampling is wrong
  // by up to 255 codes, and FX's int8 model agrees with fp32 on 0.13% of pixels.
  if (int8) {
    run_peers(
        absl::StrCat("ATEN_CPU_CAPABILITY=avx2 ", command, " --peers pytorch_fx_int8_onednn"));
  }

  ann::ModelConfig config;
  config.depth = FLAGS_depth;
  ann::EncoderDecoder model(config);
  if (absl::Status s = ann::LoadCheckpoint(checkpoint, *model, ann::LoadMode::kStrict).status();
      !s.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::remove(checkpoint.c_str());
  model->eval();
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({1, 3, FLAGS_height, FLAGS_width});
  ann::FlopCounter counter;
  ann::CountSegmentor(*model, {1, 3, FLAGS_height, FLAGS_width}, /*auxiliary=*/false, counter);
  const double macs = static_cast<double>(counter.total());

  const torch::Tensor exact = model->Predict(x);
  peers.emplace_back("ann_exact_fp32", Time([&] { model->Predict(x); }, FLAGS_runs));
  std::vector<std::pair<std::string, std::pair<double, double>>> errors;
  const ann::Graph graph = ann::InferenceGraph(*model);
  auto fast = [&](ann::Precision precision, const std::string& name) {
    const ann::DnnlExecutor executor(graph, precision);
    const torch::Tensor got = executor.Predict(x);
    const double rel = ((got - exact).abs().max() / exact.abs().max()).item<double>();
    const double agree =
        (got.argmax(1) == exact.argmax(1)).to(torch::kDouble).mean().item<double>();
    errors.emplace_back(name, std::make_pair(rel, agree));
    peers.emplace_back(name, Time([&] { executor.Predict(x); }, FLAGS_runs));
  };
  fast(ann::Precision::kFp32, "ann_fast_fp32");
  if (int8) {
    ann::Int8Executor engine(graph);  // calibrated on the input, as PyTorch's peer is
    engine.Observe(x);
    engine.Quantize(engine.calibration(), ann::Observer::kMinMax);
    const torch::Tensor got = engine.Predict(x);
    const double rel = ((got - exact).abs().max() / exact.abs().max()).item<double>();
    const double agree =
        (got.argmax(1) == exact.argmax(1)).to(torch::kDouble).mean().item<double>();
    errors.emplace_back("ann_int8", std::make_pair(rel, agree));
    peers.emplace_back("ann_int8", Time([&] { engine.Predict(x); }, FLAGS_runs));
  }
  if (bf16) fast(ann::Precision::kBf16, "ann_fast_bf16");

  double eager_ms = 0;
  for (const auto& [name, t] : peers) {
    if (name == "pytorch_eager_fp32") eager_ms = t.min_ms;
  }
  std::printf("%s\n", ann::CpuDescription(threads).c_str());
  std::printf("ANN R-%d-D8 forward %dx%d, %d threads, %.1f GMACs, min / median of %d runs\n",
              FLAGS_depth, FLAGS_width, FLAGS_height, threads, macs / 1e9, FLAGS_runs);
  auto limit = [](bool has, double v) { return has ? absl::StrCat(static_cast<int>(v)) : "n/a"; };
  std::printf(
      "limits now: sgemm 2048^3 %.0f GFLOP/s; 3x3 conv 256->256 at 128x128: fp32 %.0f GFLOP/s, "
      "bf16 %s GFLOP/s, int8 %s GOP/s\n",
      sgemm, conv_fp32, limit(bf16, conv_bf16).c_str(), limit(int8, conv_int8).c_str());
  std::printf("%-54s %10s %10s %9s %13s\n", "peer", "min ms", "median ms", "GFLOP/s",
              "vs eager fp32");
  for (const auto& [name, t] : peers) {
    std::printf("%-54s %10.1f %10.1f %9.0f %12.2fx\n", name.c_str(), t.min_ms, t.median_ms,
                2 * macs / (t.min_ms * 1e6), eager_ms > 0 ? eager_ms / t.min_ms : 0.0);
  }
  std::map<std::string, double> ms;
  for (const auto& [name, t] : peers) ms[name] = t.min_ms;
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {"ann_int8", "ann_fast_bf16"},
           {"ann_int8", "ann_fast_fp32"},
           {"ann_int8", "pytorch_fx_int8_onednn"},
           {"ann_fast_bf16", "pytorch_bf16_autocast_channels_last"}}) {
    if (ms.count(a) && ms.count(b)) {
      std::printf("%s is %.2fx %s\n", a.c_str(), ms[b] / ms[a], b.c_str());
    }
  }
  for (const auto& [name, e] : errors) {
    std::printf("%s vs ann_exact_fp32: max relative error %.2e, argmax agreement %.4f%%\n",
                name.c_str(), e.first, 100 * e.second);
  }
  return 0;
}
