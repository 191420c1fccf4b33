// What selects one concrete ANN network: depth, classes, pyramid scales, interpolation and the
// published variant (mmseg's, the default, or the authors' original code). Configs under
// configs/ set these through the flags declared here; the library reads only ModelConfig.
#ifndef ANN_MODEL_MODEL_CONFIG_H_
#define ANN_MODEL_MODEL_CONFIG_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/util/variant.h"

namespace ann {

// The model part of a config.

struct ModelConfig {
  Variant variant = Variant::kMmseg;
  int depth = 50;  // 18, 34, 50 or 101.
  int64_t num_classes = 19;
  // Adaptive pooling sizes of the pyramid sampling module (S = sum of squares).
  std::vector<int64_t> pool_scales = {1, 3, 6, 8};
  bool align_corners = false;
  bool with_auxiliary_head = true;
  int64_t project_channels = 256;  // Key / query / value width inside the attention blocks.
  int64_t channels = 512;          // Decode head width after the 3x3 bottleneck.

  // Derived properties of the variant.
  bool IsOriginal() const { return variant == Variant::kOriginal; }
  int64_t stem_channels() const { return IsOriginal() ? 128 : 64; }
  bool stem_ceil_mode() const { return IsOriginal(); }
  bool head_conv_bias() const { return IsOriginal(); }
  // Dropout2d before the classifier and after AFNB (mmseg's BaseDecodeHead.dropout).
  double decode_dropout() const { return IsOriginal() ? 0.0 : 0.1; }
  // Dropout2d inside AFNB / APNB bottlenecks (authors' code only).
  double block_dropout() const { return IsOriginal() ? 0.05 : 0.0; }
  int64_t auxiliary_channels() const { return IsOriginal() ? 512 : 256; }
  double auxiliary_dropout() const { return IsOriginal() ? 0.05 : 0.1; }
  bool uses_bottleneck_blocks() const { return depth >= 50; }
  // Channels of C4 and C5 for this depth.
  int64_t c4_channels() const { return uses_bottleneck_blocks() ? 1024 : 256; }
  int64_t c5_channels() const { return uses_bottleneck_blocks() ? 2048 : 512; }
};

// Returns the variant's defaults (align_corners) for `variant`.
ModelConfig DefaultModelConfig(Variant variant);

// Builds a config from the model flags (--depth, --num_classes, --variant, --pool_scales,
// --align_corners, --aux_head, --channels, --project_channels). Rejects bad values.
absl::StatusOr<ModelConfig> ModelConfigFromFlags();

// --variant, which the data part's normalisation defaults also follow.
absl::StatusOr<Variant> VariantFromFlags();

// Checks a config for values the network cannot be built with.
absl::Status ValidateModelConfig(const ModelConfig& config);

}  // namespace ann

#endif  // ANN_MODEL_MODEL_CONFIG_H_
