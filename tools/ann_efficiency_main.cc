// ann_efficiency: FLOPs, parameters, peak memory and latency (the README's ann_efficiency section)
// of a block
// (--block --shape), of the paper's non-local vs APNB vs AFNB comparison (--paper_table), or of
// a whole model from a config (--config --input) with its per-module breakdown.
//
// FLOPs are counted analytically (fvcore / mmengine convention: 1 multiply-add = 1 FLOP, the
// attention matmuls included); memory is the peak of tensor allocations during one forward
// beyond its input; time is min / median / mean of --runs forwards after --warmup, minus a
// pass-through baseline.
#include <cstdio>
#include <string>

#include "ann/config/config.h"
#include "ann/efficiency/footprint.h"
#include "ann/efficiency/report.h"
#include "ann/util/flags.h"
#include "ann/util/runtime.h"
#include "gflags/gflags.h"

DEFINE_string(block, "", "Block to measure: nonlocal, apnb or afnb.");
DEFINE_string(shape, "1,2048,128,256", "Block input N,C,H,W.");
DEFINE_string(input, "", "Whole model (from --config): input WIDTHxHEIGHT, e.g. 2048x1024.");
DEFINE_bool(paper_table, false,
            "Non-local vs APNB vs AFNB at [1,2048,96,96], [1,2048,128,128], "
            "[1,2048,128,256].");
DEFINE_bool(json, false, "Print json instead of a table.");
DEFINE_string(flops_convention, "mac", "mac (1 multiply-add = 1 FLOP, fvcore) or 2mac.");
DEFINE_int32(runs, 20, "Timed runs.");
DEFINE_int32(warmup, 2, "Untimed warm-up runs.");
DEFINE_bool(time, true, "Measure latency.");
DEFINE_bool(memory, true, "Measure peak memory.");

namespace ann {
namespace {

const ToolInfo kTool = {
    "ann_efficiency", "FLOPs, parameters, peak memory and latency of blocks or whole models",
    "(--block=nonlocal|apnb|afnb --shape=N,C,H,W | --config=FLAGS --input=WxH | --paper_table) "
    "[--json] [--flops_convention=mac|2mac] [--runs=20 --warmup=2]",
    "ann_efficiency --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags --input=1024x512"};

absl::Status Run() {
  ReportOptions options;
  ANN_ASSIGN_OR_RETURN(options.convention,
                       ParseEnumFlag<FlopConvention>(
                           "flops_convention", FLAGS_flops_convention,
                           {{"mac", FlopConvention::kMac}, {"2mac", FlopConvention::kTwoMac}}));
  if (FLAGS_runs < 1) return absl::InvalidArgumentError("--runs: must be >= 1");
  if (FLAGS_warmup < 0) return absl::InvalidArgumentError("--warmup: must be >= 0");
  options.json = FLAGS_json;
  options.measure = {FLAGS_memory, FLAGS_time, FLAGS_warmup, FLAGS_runs};
  if (FLAGS_paper_table + !FLAGS_block.empty() + !FLAGS_input.empty() != 1) {
    return absl::InvalidArgumentError(
        "--block: give exactly one of --block, --input (with --config), --paper_table");
  }
  std::string report;
  if (FLAGS_paper_table) {
    SetUpRuntimeFromFlags();
    report = ReportBlocks({{1, 2048, 96, 96}, {1, 2048, 128, 128}, {1, 2048, 128, 256}},
                          {BlockKind::kNonLocal, BlockKind::kApnb, BlockKind::kAfnb}, options);
  } else if (!FLAGS_block.empty()) {
    ANN_ASSIGN_OR_RETURN(BlockKind kind, ParseBlockKind(FLAGS_block));
    ANN_ASSIGN_OR_RETURN(Shape shape, ParseBlockShape(FLAGS_shape));
    ANN_RETURN_IF_ERROR(CheckBlockFits(kind, shape));
    SetUpRuntimeFromFlags();
    report = ReportBlocks({shape}, {kind}, options);
  } else {
    ANN_ASSIGN_OR_RETURN(Config config, LoadConfig<kModelPart>());
    ANN_ASSIGN_OR_RETURN(cv::Size input, ParseSizeFlag("input", FLAGS_input));
    if (input.width < 32 || input.height < 32) {
      return absl::InvalidArgumentError("--input: both sides must be at least 32");
    }
    ANN_RETURN_IF_ERROR(CheckFits(ForwardPeakBytes(config.model, input.height, input.width,
                                                   /*precision=*/std::nullopt),
                                  "--input", absl::StrCat("a ", FLAGS_input, " forward pass")));
    SetUpRuntimeFromFlags();
    report = ReportModel(config.model, input, options);
  }
  std::printf("%s", report.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) { return ann::RunConfigTool(argc, argv, ann::kTool, ann::Run); }
