// The reports of ann_efficiency (the README's ann_efficiency section): blocks (non-local vs APNB vs
// AFNB, the paper's table) and a whole model with its per-module breakdown, as a text table or as
// JSON. FLOPs are labelled with their convention (fvcore / mmengine: 1 multiply-add = 1 FLOP; or 2
// per MAC).
#ifndef ANN_EFFICIENCY_REPORT_H_
#define ANN_EFFICIENCY_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/efficiency/blocks.h"
#include "ann/model/model_config.h"
#include "opencv2/core.hpp"

namespace ann {

// How FLOPs are counted in a report.
enum class FlopConvention { kMac, kTwoMac };

// What a report measures and how it is written.
struct ReportOptions {
  FlopConvention convention = FlopConvention::kMac;
  bool json = false;
  MeasureOptions measure;
};

// "N,C,H,W" with positive sizes and an even C (AFNB reads a C/2 map).
absl::StatusOr<Shape> ParseBlockShape(const std::string& text);

// A flag error on --shape when `kind` at `shape` cannot fit in this machine's memory (the
// non-local block's attention map alone is (HW)^2 floats).
absl::Status CheckBlockFits(BlockKind kind, const Shape& shape);

// Measures every kind at every shape; with non-local first, the table adds its ratios.
std::string ReportBlocks(const std::vector<Shape>& shapes, const std::vector<BlockKind>& kinds,
                         const ReportOptions& options);

// Counts, measures and breaks down (per backbone stage / head part) the inference of a model
// built from `config` on a 1x3x`input` image.
std::string ReportModel(const ModelConfig& config, cv::Size input, const ReportOptions& options);

}  // namespace ann

#endif  // ANN_EFFICIENCY_REPORT_H_
