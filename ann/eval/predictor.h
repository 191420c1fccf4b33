// Prediction for one decoded image, in mmseg's test modes (spec §4):
//  - whole: the image resized keep-ratio to the config's test scale (none: as is), one pass,
//    logits resized back to the image size;
//  - slide: crops of `crop` every `stride` (windows per axis max(H - crop + stride - 1, 0) /
//    stride + 1, the last clamped to the border), logits summed and divided by the count;
//  - multi-scale + flip: for each ratio of the test scale (and its mirror), softmax
//    probabilities (flipped back) at the image size, averaged.
// A single pass returns logits; several return averaged probabilities (same argmax rule).
#ifndef ANN_EVAL_PREDICTOR_H_
#define ANN_EVAL_PREDICTOR_H_

#include <vector>

#include "absl/status/statusor.h"
#include "ann/model/segmentor.h"
#include "opencv2/core.hpp"
#include "torch/torch.h"

namespace ann {

struct InferenceConfig {
  enum class Mode { kWhole, kSlide } mode = Mode::kWhole;
  cv::Size test_scale{0, 0};  // (w, h) keep-ratio target; {0, 0}: the image's own size.
  cv::Size crop{769, 769};    // Slide window (w, h).
  cv::Size stride{513, 513};
  std::vector<double> ratios = {1.0};  // Multi-scale ratios of test_scale.
  bool flip = false;
  bool IsAugmented() const { return ratios.size() > 1 || flip; }
};

// From --test_mode --test_scale --test_crop --test_stride --scales --flip --aug_test.
absl::StatusOr<InferenceConfig> InferenceConfigFromFlags();

class Predictor {
 public:
  explicit Predictor(EncoderDecoder model, InferenceConfig config = InferenceConfig());

  // Scores [K, H, W] (float32) for a BGR uint8 image of size H x W: logits for one pass,
  // averaged softmax probabilities for multi-scale / flip.
  torch::Tensor Logits(const cv::Mat& image_bgr);

  // Logits [1, K, h, w] of a normalised input [1, 3, h, w] in the configured mode (whole or
  // slide), at the input's size.
  torch::Tensor Infer(const torch::Tensor& input);

  // Argmax of Logits as a uint8 [H, W] label map.
  static torch::Tensor Labels(const torch::Tensor& logits);

  const InferenceConfig& config() const { return config_; }

 private:
  torch::Tensor SlideInfer(const torch::Tensor& input);

  EncoderDecoder model_;
  InferenceConfig config_;
};

}  // namespace ann

#endif  // ANN_EVAL_PREDICTOR_H_
