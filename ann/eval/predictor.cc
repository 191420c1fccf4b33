#include "ann/eval/predictor.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ann/data/transforms.h"
#include "ann/io/image.h"
#include "ann/util/flags.h"
#include "gflags/gflags.h"
#include "opencv2/imgproc.hpp"

DEFINE_string(test_mode, "whole", "Inference mode: whole or slide.");
DEFINE_string(test_scale, "none",
              "Keep-ratio test scale WIDTHxHEIGHT (e.g. 2048x1024), or none for the image size.");
DEFINE_string(test_crop, "769x769", "Slide window WIDTHxHEIGHT.");
DEFINE_string(test_stride, "513x513", "Slide stride WIDTHxHEIGHT.");
DEFINE_string(scales, "1.0", "Test-scale ratios, comma separated (multi-scale: averaged softmax).");
DEFINE_bool(flip, false, "Also predict the mirrored image and average (flip augmentation).");
DEFINE_bool(aug_test, false, "mmseg's aug test: --scales=0.5,0.75,1.0,1.25,1.5,1.75 --flip.");

namespace ann {

absl::StatusOr<InferenceConfig> InferenceConfigFromFlags() {
  InferenceConfig c;
  if (FLAGS_test_mode == "whole") {
    c.mode = InferenceConfig::Mode::kWhole;
  } else if (FLAGS_test_mode == "slide") {
    c.mode = InferenceConfig::Mode::kSlide;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--test_mode: expected whole or slide, got '", FLAGS_test_mode, "'"));
  }
  if (FLAGS_test_scale != "none") {
    auto scale = ParseSizeFlag("test_scale", FLAGS_test_scale);
    if (!scale.ok()) return scale.status();
    c.test_scale = *scale;
  }
  auto crop = ParseSizeFlag("test_crop", FLAGS_test_crop);
  if (!crop.ok()) return crop.status();
  c.crop = *crop;
  auto stride = ParseSizeFlag("test_stride", FLAGS_test_stride);
  if (!stride.ok()) return stride.status();
  c.stride = *stride;
  c.ratios.clear();
  const std::string scales = FLAGS_aug_test ? "0.5,0.75,1.0,1.25,1.5,1.75" : FLAGS_scales;
  for (absl::string_view part : absl::StrSplit(scales, ',', absl::SkipWhitespace())) {
    double r;
    if (!absl::SimpleAtod(part, &r) || !(r > 0)) {
      return absl::InvalidArgumentError(absl::StrCat("--scales: '", part, "' is not a positive ratio"));
    }
    c.ratios.push_back(r);
  }
  if (c.ratios.empty()) return absl::InvalidArgumentError("--scales: no ratio given");
  c.flip = FLAGS_flip || FLAGS_aug_test;
  return c;
}

Predictor::Predictor(EncoderDecoder model, InferenceConfig config)
    : model_(std::move(model)), config_(std::move(config)) {
  model_->eval();
}

torch::Tensor Predictor::SlideInfer(const torch::Tensor& input) {
  const int64_t h = input.size(2), w = input.size(3);
  const int64_t ch = config_.crop.height, cw = config_.crop.width;
  const int64_t sh = config_.stride.height, sw = config_.stride.width;
  const int64_t rows = std::max<int64_t>(h - ch + sh - 1, 0) / sh + 1;
  const int64_t cols = std::max<int64_t>(w - cw + sw - 1, 0) / sw + 1;
  torch::Tensor sum;
  torch::Tensor count = torch::zeros({1, 1, h, w}, input.options());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t y2 = std::min(r * sh + ch, h), x2 = std::min(c * sw + cw, w);
      const int64_t y1 = std::max<int64_t>(y2 - ch, 0), x1 = std::max<int64_t>(x2 - cw, 0);
      torch::Tensor crop = input.slice(2, y1, y2).slice(3, x1, x2);
      torch::Tensor logits = model_->Predict(crop);
      if (!sum.defined()) sum = torch::zeros({1, logits.size(1), h, w}, logits.options());
      sum.slice(2, y1, y2).slice(3, x1, x2).add_(logits);
      count.slice(2, y1, y2).slice(3, x1, x2).add_(1);
    }
  }
  return sum / count;
}

torch::Tensor Predictor::Infer(const torch::Tensor& input) {
  return config_.mode == InferenceConfig::Mode::kSlide ? SlideInfer(input)
                                                       : model_->Predict(input);
}

torch::Tensor Predictor::Logits(const cv::Mat& image_bgr) {
  torch::InferenceMode guard;
  const cv::Size original = image_bgr.size();
  const bool augmented = config_.IsAugmented();
  torch::Tensor total;
  for (double ratio : config_.ratios) {
    cv::Mat scaled = image_bgr;
    if (config_.test_scale.area() > 0 || ratio != 1.0) {
      const cv::Size base = config_.test_scale.area() > 0 ? config_.test_scale : original;
      const cv::Size target(static_cast<int>(base.width * ratio),
                            static_cast<int>(base.height * ratio));
      const cv::Size size = RescaleSize(original, target);
      if (size != original) cv::resize(image_bgr, scaled, size, 0, 0, cv::INTER_LINEAR);
    }
    for (int flipped = 0; flipped <= (config_.flip ? 1 : 0); ++flipped) {
      cv::Mat view = scaled;
      if (flipped) cv::flip(scaled, view, 1);
      torch::Tensor input = NormalizeImage(ImageToTensor(view), model_->config());
      torch::Tensor out = Infer(input);
      out = ResizeLogits(out, original.height, original.width, model_->config().align_corners);
      if (augmented) out = torch::softmax(out, 1);
      if (flipped) out = out.flip({3});
      total = total.defined() ? total + out : out;
    }
  }
  if (augmented) total = total / static_cast<double>(config_.ratios.size() * (config_.flip ? 2 : 1));
  return total[0].contiguous();
}

torch::Tensor Predictor::Labels(const torch::Tensor& logits) {
  return logits.argmax(/*dim=*/0).to(torch::kUInt8);
}

}  // namespace ann
