#include "ann/efficiency/report.h"

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ann/efficiency/flops.h"
#include "ann/efficiency/footprint.h"
#include "ann/efficiency/latency.h"
#include "ann/efficiency/memory.h"
#include "ann/model/segmentor.h"
#include "ann/util/json.h"
#include "glog/logging.h"

namespace ann {
namespace {

int FlopFactor(const ReportOptions& o) { return o.convention == FlopConvention::kMac ? 1 : 2; }

std::string ConventionName(const ReportOptions& o) {
  return o.convention == FlopConvention::kMac ? "mac" : "2mac";
}

std::string ConventionLine(const ReportOptions& o) {
  return o.convention == FlopConvention::kMac
             ? "FLOPs: fvcore / mmengine convention, 1 multiply-add = 1 FLOP"
             : "FLOPs: 2 per multiply-add (--flops_convention=2mac)";
}

double Gflops(int64_t flops, const ReportOptions& o) { return FlopFactor(o) * flops / 1e9; }

// Six significant digits, as the tables print them.
Json Rounded(double v) { return JsonNumber(std::stod(absl::StrFormat("%.6g", v))); }

std::string Mb(int64_t bytes) {
  return bytes < 0 ? std::string("-") : absl::StrFormat("%.1f", bytes / 1048576.0);
}

std::string Ms(const BlockReport& r, double v) {
  return r.timed ? absl::StrFormat("%.1f", v) : std::string("-");
}

std::string Ratio(double a, double b) {
  return b > 0 && a >= 0 ? absl::StrFormat("%.1fx", a / b) : std::string("-");
}

Json BlockJson(const BlockReport& r, const ReportOptions& o) {
  Json j = Json::object();
  j["block"] = r.block;
  j["shape"] = r.shape;
  j["params"] = r.params;
  j["gflops"] = Rounded(Gflops(r.flops, o));
  j["memory_mb"] = r.memory_bytes < 0 ? Json(nullptr) : Rounded(r.memory_bytes / 1048576.0);
  if (r.timed) {
    Json t = Json::object();
    t["min"] = Rounded(r.latency.min_ms);
    t["median"] = Rounded(r.latency.median_ms);
    t["mean"] = Rounded(r.latency.mean_ms);
    j["time_ms"] = t;
  } else {
    j["time_ms"] = nullptr;
  }
  return j;
}

}  // namespace

absl::StatusOr<Shape> ParseBlockShape(const std::string& text) {
  Shape shape;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int64_t v;
    if (!absl::SimpleAtoi(part, &v) || v < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--shape: expected N,C,H,W, got '", text, "'"));
    }
    shape.push_back(v);
  }
  if (shape.size() != 4 || shape[1] % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shape: expected N,C,H,W with even C, got '", text, "'"));
  }
  return shape;
}

absl::Status CheckBlockFits(BlockKind kind, const Shape& shape) {
  // In doubles: a shape from the command line may be absurd.
  const double n = shape[0], c = shape[1], hw = static_cast<double>(shape[2]) * shape[3];
  // The block's input and output, plus the non-local block's [HW, HW] attention map.
  const double bytes = 4 * n * (2 * c * hw + (kind == BlockKind::kNonLocal ? hw * hw : 0));
  return CheckFits(bytes, "--shape",
                   absl::StrCat(BlockName(kind), " at [", absl::StrJoin(shape, ","), "]"));
}

std::string ReportBlocks(const std::vector<Shape>& shapes, const std::vector<BlockKind>& kinds,
                         const ReportOptions& options) {
  std::vector<BlockReport> reports;
  for (const Shape& shape : shapes) {
    for (BlockKind kind : kinds) {
      LOG(INFO) << "measuring " << BlockName(kind) << " at [" << absl::StrJoin(shape, ",")
                << "]...";
      reports.push_back(MeasureBlock(kind, shape, options.measure));
    }
  }
  if (options.json) {
    Json out = Json::object();
    out["flops_convention"] = ConventionName(options);
    out["blocks"] = Json::array();
    for (const BlockReport& r : reports) out["blocks"].push_back(BlockJson(r, options));
    return JsonLine(out) + "\n";
  }
  std::string text = absl::StrFormat(
      "%s; memory: peak tensor allocation of one forward beyond its input; time: mean of %d "
      "runs after %d warm-up, minus a pass-through baseline\n",
      ConventionLine(options), options.measure.runs, options.measure.warmup);
  const bool compare = kinds.size() > 1 && kinds[0] == BlockKind::kNonLocal;
  absl::StrAppendFormat(&text, "%-18s %-9s %10s %9s %11s %10s %10s%s\n", "input", "block", "params",
                        "GFLOPs", "memory(MB)", "time(ms)", "median",
                        compare ? "   NL/x: FLOPs  memory    time" : "");
  const BlockReport* nl = nullptr;
  for (const BlockReport& r : reports) {
    if (r.block == "nonlocal") nl = &r;
    absl::StrAppendFormat(&text, "%-18s %-9s %10d %9.2f %11s %10s %10s",
                          absl::StrCat("[", absl::StrJoin(r.shape, ","), "]"), r.block, r.params,
                          Gflops(r.flops, options), Mb(r.memory_bytes), Ms(r, r.latency.mean_ms),
                          Ms(r, r.latency.median_ms));
    if (compare && nl) {
      absl::StrAppendFormat(&text, "  %13s %7s %7s", Ratio(nl->flops, r.flops),
                            Ratio(nl->memory_bytes, r.memory_bytes),
                            r.timed ? Ratio(nl->latency.mean_ms, r.latency.mean_ms) : "-");
    }
    text += "\n";
  }
  return text;
}

std::string ReportModel(const ModelConfig& config, cv::Size input, const ReportOptions& options) {
  const int64_t h = input.height, w = input.width;
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
  torch::InferenceMode guard;
  torch::Tensor x = torch::randn({1, 3, h, w});
  const MeasureOptions& m = options.measure;
  if (m.memory)
    whole.memory_bytes = MemoryTracker::Install().PeakDuring([&] { model->Predict(x); });
  if (m.time) {
    const Latency baseline = TimeRuns([&] { (void)x.alias(); }, m.warmup, m.runs);
    whole.latency = MinusBaseline(TimeRuns([&] { model->Predict(x); }, m.warmup, m.runs), baseline);
    whole.timed = true;
  }
  if (options.json) {
    Json out = Json::object();
    out["flops_convention"] = ConventionName(options);
    out["input"] = Json::array({1, 3, h, w});
    out["total"] = BlockJson(whole, options);
    out["modules"] = Json::array();
    for (const std::string& g : groups) {
      Json module = Json::object();
      module["module"] = g;
      module["params"] = params[g];
      module["gflops"] = Rounded(Gflops(flops[g], options));
      out["modules"].push_back(module);
    }
    return JsonLine(out) + "\n";
  }
  std::string text = absl::StrFormat("ANN R-%d-D8 (%s), inference on 1x3x%dx%d; %s\n", config.depth,
                                     VariantName(config.variant), h, w, ConventionLine(options));
  absl::StrAppendFormat(&text, "%-26s %12s %10s %7s\n", "module", "params", "GFLOPs", "share");
  for (const std::string& g : groups) {
    absl::StrAppendFormat(&text, "%-26s %12d %10.2f %6.1f%%\n", g, params[g],
                          Gflops(flops[g], options), 100.0 * flops[g] / counter.total());
  }
  absl::StrAppendFormat(&text, "%-26s %12d %10.2f\n", "total (inference)", whole.params,
                        Gflops(whole.flops, options));
  if (aux_params > 0) {
    absl::StrAppendFormat(&text, "(auxiliary_head: %d parameters, training only, not counted)\n",
                          aux_params);
  }
  absl::StrAppendFormat(
      &text, "peak memory %s MB; latency mean %s ms, median %s ms, min %s ms (%d runs)\n",
      Mb(whole.memory_bytes), Ms(whole, whole.latency.mean_ms), Ms(whole, whole.latency.median_ms),
      Ms(whole, whole.latency.min_ms), m.runs);
  return text;
}

}  // namespace ann
