#include "ann/model/model_config.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"
#include "gflags/gflags.h"

DEFINE_int32(depth, 50, "ResNetV1c depth: 18, 34, 50 or 101.");
DEFINE_int32(num_classes, 19, "Number of classes of the classifier.");
DEFINE_string(variant, "mmseg",
              "Network variant: 'mmseg' (mmsegmentation ANNHead) or 'original' (authors' code).");
DEFINE_string(pool_scales, "1,3,6,8", "Pyramid sampling sizes of the attention keys/values.");
DEFINE_string(align_corners, "default",
              "Bilinear resizing of logits: true, false, or default (the variant's).");
DEFINE_bool(aux_head, true, "Build the auxiliary FCN head on C4 (used in training).");
DEFINE_int32(channels, 512, "Decode head width (mmseg's `channels`).");
DEFINE_int32(project_channels, 256, "Key/query/value width inside AFNB / APNB.");

namespace ann {

ModelConfig DefaultModelConfig(Variant variant) {
  ModelConfig config;
  config.variant = variant;
  config.align_corners = variant == Variant::kOriginal;
  return config;
}

absl::Status ValidateModelConfig(const ModelConfig& config) {
  if (config.depth != 18 && config.depth != 34 && config.depth != 50 && config.depth != 101) {
    return absl::InvalidArgumentError(
        absl::StrCat("depth: must be 18, 34, 50 or 101, got ", config.depth));
  }
  if (config.num_classes < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_classes: must be positive, got ", config.num_classes));
  }
  if (config.pool_scales.empty()) {
    return absl::InvalidArgumentError("pool_scales: must not be empty");
  }
  for (int64_t s : config.pool_scales) {
    if (s < 1)
      return absl::InvalidArgumentError(absl::StrCat("pool_scales: each must be >= 1, got ", s));
  }
  if (config.channels < 1) return absl::InvalidArgumentError("channels: must be positive");
  if (config.project_channels < 1) {
    return absl::InvalidArgumentError("project_channels: must be positive");
  }
  return absl::OkStatus();
}

absl::StatusOr<Variant> VariantFromFlags() {
  return ParseEnumFlag<Variant>("variant", FLAGS_variant,
                                {{"mmseg", Variant::kMmseg}, {"original", Variant::kOriginal}});
}

absl::StatusOr<ModelConfig> ModelConfigFromFlags() {
  ANN_ASSIGN_OR_RETURN(const Variant variant, VariantFromFlags());
  ModelConfig config = DefaultModelConfig(variant);
  config.depth = FLAGS_depth;
  config.num_classes = FLAGS_num_classes;
  config.with_auxiliary_head = FLAGS_aux_head;
  config.channels = FLAGS_channels;
  config.project_channels = FLAGS_project_channels;
  ANN_ASSIGN_OR_RETURN(config.pool_scales, ParseIntListFlag("pool_scales", FLAGS_pool_scales, 1,
                                                            SIZE_MAX, /*min_value=*/1));
  ANN_ASSIGN_OR_RETURN(config.align_corners, ParseTriStateFlag("align_corners", FLAGS_align_corners,
                                                               config.align_corners));
  absl::Status valid = ValidateModelConfig(config);
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat("--", valid.message()));
  return config;
}

}  // namespace ann
