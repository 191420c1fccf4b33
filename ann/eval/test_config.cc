#include "ann/eval/test_config.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ann/efficiency/footprint.h"
#include "ann/util/cpu.h"
#include "ann/util/flags.h"
#include "ann/util/status_macros.h"
#include "gflags/gflags.h"

DEFINE_string(test_mode, "whole",
              "Inference mode: whole, slide (mmseg) or mscrop (the authors' multi-scale crop test: "
              "--scales, --flip, --test_crop, --test_stride).");
DEFINE_string(test_scale, "none",
              "Keep-ratio test scale WIDTHxHEIGHT (e.g. 2048x1024), or none for the image size.");
DEFINE_string(test_crop, "769x769", "Slide / mscrop window WIDTHxHEIGHT.");
DEFINE_string(test_stride, "513x513", "Slide / mscrop stride WIDTHxHEIGHT.");
DEFINE_string(scales, "1.0",
              "Test-scale ratios, comma separated (multi-scale: averaged softmax; mscrop: its "
              "scales).");
DEFINE_bool(flip, false, "Also predict the mirrored image and average (flip augmentation).");
DEFINE_string(precision, "exact",
              "Inference arithmetic: exact (as loaded: bit-identical to mmseg's PyTorch), fp32 "
              "(BatchNorm folded into the convolutions, channels-last: faster, within 1e-4), "
              "bf16 (the same in bfloat16; needs AVX512-BF16 or AMX) or int8 (post-training "
              "quantization with --calibration; needs AVX2, faster with VNNI or AMX-INT8).");
DEFINE_string(calibration, "",
              "--precision=int8: the calibration file ann_test --calibrate wrote for this "
              "checkpoint.");
DEFINE_string(int8_observer, "minmax",
              "--precision=int8: activation ranges from the calibration's minmax (min / max over "
              "the images: the best mIoU measured) or percentile (0.01% / 99.99% quantiles).");
DEFINE_bool(aug_test, false, "mmseg's aug test: --scales=0.5,0.75,1.0,1.25,1.5,1.75 --flip.");
DEFINE_string(aug_style, "mmseg0x",
              "How multi-scale ratios size each pass: mmseg0x (ratio x --test_scale, as mmseg "
              "0.x's MultiScaleFlipAug and the seed's configs) or mmseg1x (ratio x the image's "
              "own size, as mmseg 1.x's TestTimeAug).");

namespace ann {

absl::StatusOr<TestConfig> TestConfigFromFlags() {
  TestConfig c;
  using Mode = TestConfig::Mode;
  using Style = TestConfig::AugStyle;
  ANN_ASSIGN_OR_RETURN(
      c.mode, ParseEnumFlag<Mode>(
                  "test_mode", FLAGS_test_mode,
                  {{"whole", Mode::kWhole}, {"slide", Mode::kSlide}, {"mscrop", Mode::kMsCrop}}));
  ANN_ASSIGN_OR_RETURN(c.aug_style, ParseEnumFlag<Style>("aug_style", FLAGS_aug_style,
                                                         {{"mmseg0x", Style::kMmseg0x},
                                                          {"mmseg1x", Style::kMmseg1x}}));
  if (FLAGS_test_scale != "none") {
    ANN_ASSIGN_OR_RETURN(c.test_scale, ParseSizeFlag("test_scale", FLAGS_test_scale));
  }
  ANN_ASSIGN_OR_RETURN(c.crop, ParseSizeFlag("test_crop", FLAGS_test_crop));
  ANN_ASSIGN_OR_RETURN(c.stride, ParseSizeFlag("test_stride", FLAGS_test_stride));
  ANN_ASSIGN_OR_RETURN(
      c.ratios, ParseNumberListFlag(FLAGS_aug_test ? "aug_test" : "scales",
                                    FLAGS_aug_test ? "0.5,0.75,1.0,1.25,1.5,1.75" : FLAGS_scales));
  for (double r : c.ratios) {
    if (!(r >= kMinRatio && r <= kMaxRatio)) {
      return absl::InvalidArgumentError(absl::StrCat("--scales: ", r, " is out of range (ratios ",
                                                     kMinRatio, " to ", kMaxRatio, ")"));
    }
  }
  c.flip = FLAGS_flip || FLAGS_aug_test;
  ANN_ASSIGN_OR_RETURN(c.precision,
                       ParseEnumFlag<std::optional<Precision>>("precision", FLAGS_precision,
                                                               {{"exact", std::nullopt},
                                                                {"fp32", Precision::kFp32},
                                                                {"bf16", Precision::kBf16},
                                                                {"int8", Precision::kInt8}}));
  if (c.precision == Precision::kBf16) ANN_RETURN_IF_ERROR(CheckBf16Flag("precision"));
  ANN_ASSIGN_OR_RETURN(c.observer, ParseObserverFlag(FLAGS_int8_observer));
  if (c.precision == Precision::kInt8) {
    ANN_RETURN_IF_ERROR(CheckInt8Flag("precision"));
    if (FLAGS_calibration.empty()) {
      return absl::InvalidArgumentError(
          "--calibration: --precision=int8 needs a calibration (ann_test --calibrate=FILE)");
    }
    ANN_ASSIGN_OR_RETURN(Calibration calibration, ReadCalibration(FLAGS_calibration));
    c.calibration = std::make_shared<const Calibration>(std::move(calibration));
    c.calibration_path = FLAGS_calibration;
  }
  return c;
}

absl::Status CheckCalibrationForCheckpoint(const TestConfig& test,
                                           const std::string& checkpoint_path) {
  if (test.precision != Precision::kInt8) return absl::OkStatus();
  return CheckCalibrationFor(*test.calibration, test.calibration_path, checkpoint_path);
}

absl::Status CheckInt8Head(const ModelConfig& model, const TestConfig& test) {
  if (test.precision != Precision::kInt8) return absl::OkStatus();
  // int8 runs APNB's output projection fused into its bottleneck (FusedBottleneck), which the
  // inference form builds only where it narrows the convolution.
  if (model.project_channels >= model.channels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--project_channels: int8 needs it below --channels (APNB's projection is fused into its "
        "bottleneck), and this config has ",
        model.project_channels, " >= ", model.channels, " (use --precision=fp32 or exact)"));
  }
  return absl::OkStatus();
}

absl::Status CheckTestFootprint(const ModelConfig& model, const TestConfig& test) {
  const double max_ratio = *std::max_element(test.ratios.begin(), test.ratios.end());
  if (test.mode == TestConfig::Mode::kWhole) {
    // Whole passes fit the test scale (times the ratio, mmseg 0.x); mmseg 1.x and "none" size
    // them from the image: checked per image (Predictor::CheckImage).
    if (test.test_scale.area() == 0 || test.aug_style == TestConfig::AugStyle::kMmseg1x) {
      return absl::OkStatus();
    }
    const int64_t w = std::llround(test.test_scale.width * max_ratio);
    const int64_t h = std::llround(test.test_scale.height * max_ratio);
    // The logits at the pass's and at the image's size come on top (not known yet: at least the
    // pass's).
    const double logits = 2 * 4.0 * model.num_classes * static_cast<double>(w) * h;
    return CheckFits(ForwardPeakBytes(model, h, w, test.precision) + logits, "--test_scale",
                     absl::StrCat("a ", w, "x", h, " forward pass"),
                     " (try --test_mode=slide or a smaller --test_scale)");
  }
  return CheckFits(ForwardPeakBytes(model, test.crop.height, test.crop.width, test.precision),
                   "--test_crop",
                   absl::StrCat("a ", test.crop.width, "x", test.crop.height, " window"));
}

}  // namespace ann
