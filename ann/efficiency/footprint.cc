#include "ann/efficiency/footprint.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "ann/util/memory.h"

namespace ann {
namespace {

// Bytes per input pixel at a forward's peak: max(backbone, head + per_class x classes).
struct PixelCost {
  double backbone;
  double head;
  double per_class;
};

// Measured peaks (see the header), rounded up by 5-10%. Basic-block backbones (18, 34) and
// bottleneck ones (50, 101) differ; depth adds layers, not simultaneous feature maps.
PixelCost CostOf(const ModelConfig& config, std::optional<Precision> precision) {
  const bool bottleneck = config.depth >= 50;
  if (!precision.has_value()) {  // LibTorch's modules: dilated convolutions unfold (im2col)
    return bottleneck ? PixelCost{1150, 300, 8.2} : PixelCost{330, 40, 8.2};
  }
  switch (*precision) {
    case Precision::kInt8:
      return PixelCost{0, 60, 9};
    case Precision::kFp32:
    case Precision::kBf16:  // measured in fp32; bfloat16 halves the feature maps
    case Precision::kFp64:  // not an inference precision
      break;
  }
  return bottleneck ? PixelCost{0, 600, 9} : PixelCost{0, 430, 9};
}

}  // namespace

double ForwardPeakBytes(const ModelConfig& config, int64_t height, int64_t width,
                        std::optional<Precision> precision, int64_t batch) {
  const PixelCost cost = CostOf(config, precision);
  const double per_pixel =
      std::max(cost.backbone, cost.head + cost.per_class * static_cast<double>(config.num_classes));
  return static_cast<double>(batch) * static_cast<double>(height) * static_cast<double>(width) *
         per_pixel;
}

double TrainStepPeakBytes(const ModelConfig& config, int64_t height, int64_t width, int64_t batch) {
  // Every feature map is kept for the backward pass. Measured (ann_train, AMD EPYC, 19 classes):
  // R-18 1530 B/px between batches of 4 and 8 256x256 crops, R-50 about 21 KB/px over the loaded
  // model at 2 x 256x256.
  const double per_pixel = (config.depth >= 50 ? 21000 : 1450) + 16.0 * config.num_classes;
  return static_cast<double>(batch) * static_cast<double>(height) * static_cast<double>(width) *
         per_pixel;
}

absl::Status CheckFits(double bytes, absl::string_view subject, absl::string_view what,
                       absl::string_view advice) {
  SetMemorySubject(std::string(subject));
  const MemoryHeadroom headroom = AvailableMemory();
  if (bytes <= headroom.bytes) return absl::OkStatus();
  // Two decimals for small sizes, where one would round both figures alike.
  const int digits = bytes < 10e9 ? 2 : 1;
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: %s needs about %.*f GB of memory; %.*f GB is available (%s)%s", subject, what, digits,
      bytes / 1e9, digits, headroom.bytes / 1e9, headroom.limit, advice));
}

}  // namespace ann
