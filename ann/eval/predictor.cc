#include "ann/eval/predictor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ann/data/normalize.h"
#include "ann/data/transforms.h"
#include "ann/efficiency/footprint.h"
#include "ann/io/image.h"
#include "ann/model/segmentor.h"
#include "ann/util/status_macros.h"
#include "opencv2/imgproc.hpp"

namespace ann {

Predictor::Predictor(ModelConfig model, NormalizeParams normalize, TestConfig config,
                     Forward forward)
    : model_(std::move(model)),
      normalize_(normalize),
      config_(std::move(config)),
      forward_(std::move(forward)) {}

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
      torch::Tensor logits = forward_(crop);
      if (!sum.defined()) sum = torch::zeros({1, logits.size(1), h, w}, logits.options());
      sum.slice(2, y1, y2).slice(3, x1, x2).add_(logits);
      count.slice(2, y1, y2).slice(3, x1, x2).add_(1);
    }
  }
  return sum / count;
}

torch::Tensor Predictor::Infer(const torch::Tensor& input) {
  return config_.mode == TestConfig::Mode::kSlide ? SlideInfer(input) : forward_(input);
}

cv::Size Predictor::PassSize(cv::Size original, double ratio) const {
  if (config_.aug_style == TestConfig::AugStyle::kMmseg1x && config_.IsAugmented()) {
    // mmcv 2.x Resize(scale_factor=r, keep_ratio=True): the scale is the image's own size times
    // r, rounded (_scale_size), then imrescale's keep-ratio rounding.
    const cv::Size target(static_cast<int>(original.width * ratio + 0.5),
                          static_cast<int>(original.height * ratio + 0.5));
    return RescaleSize(original, target);
  }
  if (config_.test_scale.width <= 0 && ratio == 1.0) return original;
  // mmseg 0.x MultiScaleFlipAug: int(scale * r) per side of the test scale (or, without one,
  // of the image: Resize's scale_factor path), then imrescale's keep-ratio rounding.
  const cv::Size base = config_.test_scale.width > 0 ? config_.test_scale : original;
  const cv::Size target(static_cast<int>(base.width * ratio),
                        static_cast<int>(base.height * ratio));
  return RescaleSize(original, target);
}

absl::Status Predictor::CheckImage(const std::string& path, cv::Size size) const {
  const ModelConfig& model = model_;
  const bool mscrop = config_.mode == TestConfig::Mode::kMsCrop;
  const double classes = static_cast<double>(model.num_classes);
  for (double ratio : config_.ratios) {
    const cv::Size pass = mscrop ? MsCropPassSize(size, ratio) : PassSize(size, ratio);
    if (pass.width < 1 || pass.height < 1) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": a ", size.width, "x", size.height,
                                                     " image at ratio ", ratio,
                                                     " (--scales) is less than one pixel"));
    }
    // The network runs on the pass, or on windows of it; scores exist at the pass's and the
    // image's size (a whole pass's are the forward's own logits).
    int64_t window_w = pass.width, window_h = pass.height;
    if (config_.mode != TestConfig::Mode::kWhole) {
      window_w = std::min(window_w, int64_t{config_.crop.width});
      window_h = std::min(window_h, int64_t{config_.crop.height});
    }
    const double image_px = static_cast<double>(size.width) * size.height;
    const double pass_px = static_cast<double>(pass.width) * pass.height;
    const double scores =
        4 * classes * (config_.mode == TestConfig::Mode::kWhole ? image_px : pass_px + image_px);
    const double bytes = ForwardPeakBytes(model, window_h, window_w, config_.precision) + scores;
    ANN_RETURN_IF_ERROR(CheckFits(bytes, path,
                                  absl::StrCat("a ", pass.width, "x", pass.height, " pass"),
                                  config_.mode == TestConfig::Mode::kWhole
                                      ? " (try --test_mode=slide or a smaller --test_scale)"
                                      : ""));
  }
  return absl::OkStatus();
}

cv::Size Predictor::MsCropPassSize(cv::Size original, double scale) {
  // The authors' int(H * s) x int(W * s).
  return cv::Size(static_cast<int>(original.width * scale),
                  static_cast<int>(original.height * scale));
}

torch::Tensor Predictor::Logits(const cv::Mat& image_bgr) {
  torch::InferenceMode guard;
  if (config_.mode == TestConfig::Mode::kMsCrop) return MsCropLogits(image_bgr);
  const cv::Size original = image_bgr.size();
  const bool augmented = config_.IsAugmented();
  const bool mmseg1x = config_.aug_style == TestConfig::AugStyle::kMmseg1x;
  const bool align_corners = model_.align_corners;
  torch::Tensor total;
  for (double ratio : config_.ratios) {
    const cv::Size size = PassSize(original, ratio);
    cv::Mat scaled = image_bgr;  // shares the caller's pixels: only ever read
    if (size != original) cv::resize(image_bgr, scaled, size, 0, 0, cv::INTER_LINEAR);
    for (int flipped = 0; flipped <= (config_.flip ? 1 : 0); ++flipped) {
      cv::Mat view = scaled;
      if (flipped) {
        view = cv::Mat();  // a new buffer: never mirror `scaled` (or the caller's image) in place
        cv::flip(scaled, view, 1);
      }
      torch::Tensor out = Infer(NormalizeImage(view, normalize_));
      if (augmented && mmseg1x) {
        // mmseg 1.x postprocess_result: un-flip, resize to the image; TTA averages softmax.
        if (flipped) out = out.flip({3});
        out = ResizeLogits(out, original.height, original.width, align_corners);
        out = torch::softmax(out, 1);
      } else {
        // mmseg 0.x inference(): resize to the image, softmax, un-flip.
        out = ResizeLogits(out, original.height, original.width, align_corners);
        if (augmented) out = torch::softmax(out, 1);
        if (flipped) out = out.flip({3});
      }
      total = total.defined() ? total + out : out;
    }
  }
  if (augmented)
    total = total / static_cast<double>(config_.ratios.size() * (config_.flip ? 2 : 1));
  return total[0];  // in the model's memory format: channels-last for the inference form
}

std::vector<int64_t> CropStarts(int64_t length, int64_t crop, int64_t stride) {
  std::vector<int64_t> starts;
  const int64_t times = (length - crop) / stride + 1;
  for (int64_t i = 0; i < times; ++i) starts.push_back(stride * i);
  if (length - starts.back() > crop) starts.push_back(length - crop);
  return starts;
}

torch::Tensor Predictor::CropPredict(const torch::Tensor& input) {
  const int64_t h = input.size(2), w = input.size(3);
  const int64_t ch = config_.crop.height, cw = config_.crop.width;
  torch::Tensor sum;
  torch::Tensor count = torch::zeros({1, 1, h, w}, input.options());
  for (int64_t y : CropStarts(h, ch, config_.stride.height)) {
    for (int64_t x : CropStarts(w, cw, config_.stride.width)) {
      torch::Tensor logits = forward_(input.slice(2, y, y + ch).slice(3, x, x + cw));
      if (!sum.defined()) sum = torch::zeros({1, logits.size(1), h, w}, logits.options());
      sum.slice(2, y, y + ch).slice(3, x, x + cw).add_(logits);
      count.slice(2, y, y + ch).slice(3, x, x + cw).add_(1);
    }
  }
  return sum / count;
}

torch::Tensor Predictor::MsCropLogits(const cv::Mat& image_bgr) {
  const int height = image_bgr.rows, width = image_bgr.cols;
  const torch::Tensor input = NormalizeImage(image_bgr, normalize_);
  cv::Mat total;  // [H, W] x K float32, as the authors' numpy accumulator
  for (int flipped = 0; flipped <= (config_.flip ? 1 : 0); ++flipped) {
    for (double scale : config_.ratios) {
      const cv::Size size = MsCropPassSize(image_bgr.size(), scale);
      const int64_t h = size.height, w = size.width;
      torch::Tensor x = input;
      if (h != height || w != width) {
        namespace F = torch::nn::functional;
        x = F::interpolate(input, F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{h, w})
                                      .mode(torch::kBilinear)
                                      .align_corners(true));
      }
      if (flipped) x = x.flip({3});
      const bool whole = w < config_.crop.width || h < config_.crop.height;
      const torch::Tensor logits = whole ? forward_(x) : CropPredict(x);
      // cv2.resize of the H' x W' x K map to the image size, bicubic.
      const torch::Tensor map = logits[0].permute({1, 2, 0}).contiguous();
      const int channels = static_cast<int>(map.size(2));
      const cv::Mat pass(static_cast<int>(h), static_cast<int>(w), CV_32FC(channels),
                         map.data_ptr<float>());
      cv::Mat resized;
      cv::resize(pass, resized, cv::Size(width, height), 0, 0, cv::INTER_CUBIC);
      if (flipped) cv::flip(resized, resized, 1);
      if (total.empty()) {
        total = resized.clone();
      } else {
        total += resized;
      }
    }
  }
  const int channels = total.channels();
  return torch::from_blob(total.data, {height, width, channels}, torch::kFloat32)
      .permute({2, 0, 1})
      .contiguous();
}

torch::Tensor Predictor::Labels(const torch::Tensor& logits) {
  // Reduced over [H, W, K] memory, where each pixel's scores are adjacent: a view of the inference
  // form's channels-last logits, one transposing copy of planar ones; 2-4x faster than reducing
  // across the K planes. The same first-maximum ties.
  return logits.permute({1, 2, 0}).contiguous().argmax(/*dim=*/-1).to(torch::kUInt8);
}

}  // namespace ann
