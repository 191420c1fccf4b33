// ann_efficiency: FLOPs, parameters, peak memory and latency (spec §6).
//
//   ann_efficiency --block=nonlocal|apnb|afnb --shape=1,2048,128,256
//   ann_efficiency --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags --input=1024x2048
//   ann_efficiency --paper_table            (non-local vs APNB vs AFNB at the paper's sizes)
//   [--json] [--flops_convention=mac|2mac] [--runs=20 --warmup=2] [--time=false] [--memory=false]
//
// FLOPs are counted analytically (fvcore / mmengine convention: 1 multiply-add = 1 FLOP, the
// attention matmuls included); memory is the peak of tensor allocations during one forward
// beyond its input; time is min / median / mean of --runs forwards after --warmup, minus a
// pass-through baseline.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ann/efficiency/blocks.h"
#include "ann/efficiency/flops.h"
#include "ann/efficiency/latency.h"
#include "ann/efficiency/memory.h"
#include "ann/eval/predictor.h"
#include "ann/model/model_config.h"
#include "ann/model/segmentor.h"
#include "ann/train/train_config.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"
#include "ann/util/threads.h"
#include "gflags/gflags.h"

DEFINE_string(block, "", "Block to measure: nonlocal, apnb or afnb.");
DEFINE_string(shape, "1,2048,128,256", "Block input N,C,H,W.");
DEFINE_string(input, "", "Whole model (from --config): input HEIGHTxWIDTH, e.g. 1024x2048.");
DEFINE_bool(paper_table, false, "Non-local vs APNB vs AFNB at [1,2048,96,96], [1,2048,128,128], "
            "[1,2048,128,256].");
DEFINE_bool(json, false, "Print json instead of a table.");
DEFINE_string(flops_convention, "mac", "mac (1 multiply-add = 1 FLOP, fvcore) or 2mac.");
DEFINE_int32(runs, 20, "Timed runs.");
DEFINE_int32(warmup, 2, "Untimed warm-up runs.");
DEFINE_bool(time, true, "Measure latency.");
DEFINE_bool(memory, true, "Measure peak memory.");

namespace ann {
namespace {

int g_flop_factor = 1;

std::string ConventionLine() {
  return g_flop_factor == 1 ? "FLOPs: fvcore / mmengine convention, 1 multiply-add = 1 FLOP"
                            : "FLOPs: 2 per multiply-add (--flops_convention=2mac)";
}

double Gflops(int64_t flops) { return g_flop_factor * flops / 1e9; }
std::string Mb(int64_t bytes) {
  return bytes < 0 ? std::string("-") : absl::StrFormat("%.1f", bytes / 1048576.0);
}
std::string Ms(const BlockReport& r, double v) {
  return r.timed ? absl::StrFormat("%.1f", v) : std::string("-");
}
std::string Ratio(double a, double b) {
  return b > 0 && a >= 0 ? absl::StrFormat("%.1fx", a / b) : std::string("-");
}
std::string JsonNumber(double v) { return absl::StrFormat("%.6g", v); }

std::string BlockJson(const BlockReport& r) {
  return absl::StrCat("{\"block\": \"", r.block, "\", \"shape\": [", absl::StrJoin(r.shape, ", "),
                      "], \"params\": ", r.params, ", \"gflops\": ", JsonNumber(Gflops(r.flops)),
                      ", \"memory_mb\": ", r.memory_bytes < 0 ? "null" : Mb(r.memory_bytes),
                      ", \"time_ms\": ",
                      r.timed ? absl::StrCat("{\"min\": ", JsonNumber(r.latency.min_ms),
                                             ", \"median\": ", JsonNumber(r.latency.median_ms),
                                             ", \"mean\": ", JsonNumber(r.latency.mean_ms), "}")
                              : "null",
                      "}");
}

absl::StatusOr<Shape> ParseShape(const std::string& text) {
  Shape shape;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int64_t v;
    if (!absl::SimpleAtoi(part, &v) || v < 1) {
      return absl::InvalidArgumentError(absl::StrCat("--shape: expected N,C,H,W, got '", text, "'"));
    }
    shape.push_back(v);
  }
  if (shape.size() != 4 || shape[1] % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shape: expected N,C,H,W with even C, got '", text, "'"));
  }
  return shape;
}

MeasureOptions Options() {
  MeasureOptions o;
  o.memory = FLAGS_memory;
  o.time = FLAGS_time;
  o.runs = FLAGS_runs;
  o.warmup = FLAGS_warmup;
  return o;
}

absl::Status RunBlocks(const std::vector<Shape>& shapes, const std::vector<BlockKind>& kinds) {
  std::vector<BlockReport> reports;
  for (const Shape& shape : shapes) {
    for (BlockKind kind : kinds) {
      std::fprintf(stderr, "measuring %s at [%s]...\n", BlockName(kind).c_str(),
                   absl::StrJoin(shape, ",").c_str());
      reports.push_back(MeasureBlock(kind, shape, Options()));
    }
  }
  if (FLAGS_json) {
    std::vector<std::string> items;
    for (const BlockReport& r : reports) items.push_back(BlockJson(r));
    std::printf("{\"flops_convention\": \"%s\", \"blocks\": [%s]}\n", FLAGS_flops_convention.c_str(),
                absl::StrJoin(items, ", ").c_str());
    return absl::OkStatus();
  }
  std::printf("%s; memory: peak tensor allocation of one forward beyond its input; time: "
              "mean of %d runs after %d warm-up, minus a pass-through baseline\n",
              ConventionLine().c_str(), FLAGS_runs, FLAGS_warmup);
  const bool compare = kinds.size() > 1 && kinds[0] == BlockKind::kNonLocal;
  std::printf("%-18s %-9s %10s %9s %11s %10s %10s%s\n", "input", "block", "params", "GFLOPs",
              "memory(MB)", "time(ms)", "median", compare ? "   NL/x: FLOPs  memory    time" : "");
  const BlockReport* nl = nullptr;
  for (const BlockReport& r : reports) {
    if (r.block == "nonlocal") nl = &r;
    std::string line = absl::StrFormat("%-18s %-9s %10d %9.2f %11s %10s %10s",
                                       absl::StrCat("[", absl::StrJoin(r.shape, ","), "]"), r.block,
                                       r.params, Gflops(r.flops), Mb(r.memory_bytes),
                                       Ms(r, r.latency.mean_ms), Ms(r, r.latency.median_ms));
    if (compare && nl) {
      absl::StrAppend(&line, absl::StrFormat(
                                 "  %13s %7s %7s", Ratio(nl->flops, r.flops),
                                 Ratio(nl->memory_bytes, r.memory_bytes),
                                 r.timed ? Ratio(nl->latency.mean_ms, r.latency.mean_ms) : "-"));
    }
    std::printf("%s\n", line.c_str());
  }
  return absl::OkStatus();
}

absl::Status RunModel() {
  ANN_ASSIGN_OR_RETURN(ModelConfig config, ModelConfigFromFlags());
  ANN_RETURN_IF_ERROR(TrainConfigFromFlags(config).status());
  ANN_RETURN_IF_ERROR(InferenceConfigFromFlags().status());
  std::vector<std::string> hw = absl::StrSplit(FLAGS_input, 'x');
  int64_t h = 0, w = 0;
  if (hw.size() != 2 || !absl::SimpleAtoi(hw[0], &h) || !absl::SimpleAtoi(hw[1], &w) || h < 32 ||
      w < 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("--input: expected HEIGHTxWIDTH (e.g. 1024x2048), got '", FLAGS_input, "'"));
  }
  torch::manual_seed(0);
  EncoderDecoder model(config);
  model->eval();
  FlopCounter counter;
  CountSegmentor(*model, {1, 3, h, w}, /*auxiliary=*/false, counter);
  // Breakdown by module (two levels: backbone.layerK, decode_head.<part>).
  std::vector<std::string> groups;
  std::map<std::string, int64_t> flops, params;
  auto group_of = [](const std::string& name) {
    std::vector<std::string> parts = absl::StrSplit(name, '.');
    return parts.size() >= 2 ? parts[0] + "." + parts[1] : parts[0];
  };
  for (const auto& [name, f] : counter.entries()) {
    const std::string g = group_of(name);
    if (!flops.count(g)) groups.push_back(g);
    flops[g] += f;
  }
  for (const auto& p : model->named_parameters()) params[group_of(p.key())] += p.value().numel();
  const int64_t aux_params = params["auxiliary_head.convs"] + params["auxiliary_head.conv_seg"];
  BlockReport whole;
  whole.block = "model";
  whole.shape = {1, 3, h, w};
  whole.flops = counter.total();
  whole.params = CountParameters(*model) - aux_params;
  SetNumThreadsFromFlags();
  torch::InferenceMode guard;
  torch::Tensor x = torch::randn({1, 3, h, w});
  if (FLAGS_memory) {
    whole.memory_bytes = MemoryTracker::Install().PeakDuring([&] { model->Predict(x); });
  }
  if (FLAGS_time) {
    const Latency baseline = TimeRuns([&] { (void)x.alias(); }, FLAGS_warmup, FLAGS_runs);
    whole.latency = MinusBaseline(TimeRuns([&] { model->Predict(x); }, FLAGS_warmup, FLAGS_runs),
                                  baseline);
    whole.timed = true;
  }
  if (FLAGS_json) {
    std::vector<std::string> items;
    for (const std::string& g : groups) {
      items.push_back(absl::StrCat("{\"module\": \"", g, "\", \"params\": ", params[g],
                                   ", \"gflops\": ", JsonNumber(Gflops(flops[g])), "}"));
    }
    std::printf("{\"flops_convention\": \"%s\", \"input\": [1, 3, %lld, %lld], \"total\": %s, "
                "\"modules\": [%s]}\n",
                FLAGS_flops_convention.c_str(), static_cast<long long>(h),
                static_cast<long long>(w), BlockJson(whole).c_str(),
                absl::StrJoin(items, ", ").c_str());
    return absl::OkStatus();
  }
  std::printf("ANN R-%d-D8 (%s), inference on 1x3x%lldx%lld; %s\n", config.depth,
              VariantName(config.variant).c_str(), static_cast<long long>(h),
              static_cast<long long>(w), ConventionLine().c_str());
  std::printf("%-26s %12s %10s %7s\n", "module", "params", "GFLOPs", "share");
  for (const std::string& g : groups) {
    std::printf("%-26s %12lld %10.2f %6.1f%%\n", g.c_str(), static_cast<long long>(params[g]),
                Gflops(flops[g]), 100.0 * flops[g] / counter.total());
  }
  std::printf("%-26s %12lld %10.2f\n", "total (inference)", static_cast<long long>(whole.params),
              Gflops(whole.flops));
  if (aux_params > 0) {
    std::printf("(auxiliary_head: %lld parameters, training only, not counted)\n",
                static_cast<long long>(aux_params));
  }
  std::printf("peak memory %s MB; latency mean %s ms, median %s ms, min %s ms (%d runs)\n",
              Mb(whole.memory_bytes).c_str(), Ms(whole, whole.latency.mean_ms).c_str(),
              Ms(whole, whole.latency.median_ms).c_str(), Ms(whole, whole.latency.min_ms).c_str(),
              FLAGS_runs);
  return absl::OkStatus();
}

absl::Status Run() {
  if (FLAGS_flops_convention == "mac") {
    g_flop_factor = 1;
  } else if (FLAGS_flops_convention == "2mac") {
    g_flop_factor = 2;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--flops_convention: expected mac or 2mac, got '", FLAGS_flops_convention, "'"));
  }
  if (FLAGS_runs < 1 || FLAGS_warmup < 0) {
    return absl::InvalidArgumentError("--runs must be >= 1 and --warmup >= 0");
  }
  const int modes = FLAGS_paper_table + !FLAGS_block.empty() + !FLAGS_input.empty();
  if (modes != 1) {
    return absl::InvalidArgumentError("give exactly one of --block, --input (with --config), --paper_table");
  }
  if (FLAGS_paper_table) {
    SetNumThreadsFromFlags();
    return RunBlocks({{1, 2048, 96, 96}, {1, 2048, 128, 128}, {1, 2048, 128, 256}},
                     {BlockKind::kNonLocal, BlockKind::kApnb, BlockKind::kAfnb});
  }
  if (!FLAGS_block.empty()) {
    ANN_ASSIGN_OR_RETURN(BlockKind kind, ParseBlockKind(FLAGS_block));
    ANN_ASSIGN_OR_RETURN(Shape shape, ParseShape(FLAGS_shape));
    SetNumThreadsFromFlags();
    return RunBlocks({shape}, {kind});
  }
  return RunModel();
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) {
  ann::ParseCommandLine(&argc, &argv,
                        "ann_efficiency (--block=B --shape=N,C,H,W | --config=F --input=HxW | "
                        "--paper_table) [--json]");
  return ann::ExitCode(ann::Run());
}
