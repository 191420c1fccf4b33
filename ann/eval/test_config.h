// How a config tests: mmseg's `test_cfg` and test pipeline (the mode, the test scale, sliding
// window, multi-scale ratios and flip), plus the authors' mscrop test. Set by the flags defined
// here (configs/_base_/datasets/*.flags); ann/eval/predictor.h runs it.
#ifndef ANN_EVAL_TEST_CONFIG_H_
#define ANN_EVAL_TEST_CONFIG_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/model/model_config.h"
#include "ann/quant/calibration.h"
#include "ann/util/precision.h"
#include "opencv2/core.hpp"

namespace ann {

// The test mode and its parameters (the README's ann_eval section).
struct TestConfig {
  enum class Mode { kWhole, kSlide, kMsCrop } mode = Mode::kWhole;
  // How the ratios of a multi-scale test size each pass.
  enum class AugStyle {
    kMmseg0x,  // MultiScaleFlipAug: ratio x test_scale, then keep-ratio rescale of the image.
    kMmseg1x,  // TestTimeAug: Resize(scale_factor=ratio, keep_ratio=True) of the image itself.
  } aug_style = AugStyle::kMmseg0x;
  cv::Size test_scale{0, 0};  // (w, h) keep-ratio target; {0, 0}: the image's own size.
  cv::Size crop{769, 769};    // Slide / mscrop window (w, h).
  cv::Size stride{513, 513};
  std::vector<double> ratios = {1.0};  // Multi-scale ratios (mscrop: its scales).
  bool flip = false;
  // --precision: none for exact (the model as loaded, bit-identical to mmseg's eager PyTorch);
  // else the inference graph in fp32 or bf16 (ann/inference/dnnl_executor.h), or int8
  // (ann/quant/int8_executor.h, with a calibration).
  std::optional<Precision> precision;
  // int8: the calibration (--calibration) and how its ranges become quantization parameters.
  std::string calibration_path;
  std::shared_ptr<const Calibration> calibration;
  Observer observer = Observer::kMinMax;
  bool IsAugmented() const { return ratios.size() > 1 || flip; }
};

// Reads --test_mode --test_scale --test_crop --test_stride --scales --flip --aug_test
// --aug_style; every bad value is an error naming its flag.
absl::StatusOr<TestConfig> TestConfigFromFlags();

// With int8 arithmetic: OK when the calibration was made for the checkpoint at
// `checkpoint_path`, else one line naming both (ann/quant/calibration.h). OK otherwise.
absl::Status CheckCalibrationForCheckpoint(const TestConfig& test,
                                           const std::string& checkpoint_path);

// A flag error where int8 cannot run this model's head (--project_channels >= --channels).
absl::Status CheckInt8Head(const ModelConfig& model, const TestConfig& test);

// A flag error (--test_scale or --test_crop) when the passes `test` makes of `model` could not fit
// in the memory this process has left whatever the image (see ann/efficiency/footprint.h).
absl::Status CheckTestFootprint(const ModelConfig& model, const TestConfig& test);

}  // namespace ann

#endif  // ANN_EVAL_TEST_CONFIG_H_
