// Prediction for one decoded image, in the test modes of both published implementations
// (the README's ann_eval section):
//  - whole (mmseg): the image resized keep-ratio to the config's test scale (none: as is), one
//    pass, logits resized back to the image size;
//  - slide (mmseg): crops of `crop` every `stride` (windows per axis max(H - crop + stride - 1,
//    0) / stride + 1, the last clamped to the border), logits summed and divided by the count;
//  - multi-scale + flip (mmseg): one pass per ratio (and its mirror) in the whole or slide mode,
//    softmax probabilities at the image size averaged. mmseg 0.x (the default, what the seed's
//    configs use) scales the *test scale* by each ratio; mmseg 1.x's TTA scales the *original
//    image* (Resize(scale_factor=r, keep_ratio=True)) and un-flips before resizing back;
//  - mscrop (the authors' mscrop_test): per scale, unflipped then flipped, the normalised image
//    resized (align_corners) to int(H*s) x int(W*s), predicted whole if smaller than the crop,
//    else in crops at starts 0, stride, ... plus L - crop; each pass's logits resized to the
//    image with bicubic interpolation and the raw logits summed.
// The caller's image is never modified.
#ifndef ANN_EVAL_PREDICTOR_H_
#define ANN_EVAL_PREDICTOR_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/data/normalize.h"
#include "ann/eval/test_config.h"
#include "ann/model/model_config.h"
#include "opencv2/core.hpp"
#include "torch/torch.h"

namespace ann {

// A network's forward: a normalised input [N, 3, h, w] to its logits [N, K, h, w] at the input's
// size. A backend (ann/eval/backend.h): the model's own Predict, an inference-graph executor, or
// int8 calibration's observing forward.
using Forward = std::function<torch::Tensor(const torch::Tensor&)>;

// Runs a backend in the configured test mode.
//
//   ANN_ASSIGN_OR_RETURN(Predictor predictor,
//                        LoadPredictor(model, data.normalize, test, "r50.pth"));
//   torch::Tensor scores = predictor.Logits(image_bgr);   // [K, H, W]
//   torch::Tensor labels = Predictor::Labels(scores);     // uint8 [H, W]
class Predictor {
 public:
  // Runs `forward` on images normalised with `normalize` in `config`'s test mode. `model` says how
  // logits are resized (align_corners) and what a pass costs in memory.
  Predictor(ModelConfig model, NormalizeParams normalize, TestConfig config, Forward forward);

  // Scores [K, H, W] (float32) for a BGR uint8 image of size H x W: logits for one pass,
  // averaged softmax probabilities for multi-scale / flip, summed logits for mscrop, in any
  // memory format (channels-last from the inference form). The image is only read.
  torch::Tensor Logits(const cv::Mat& image_bgr);

  // Checks, before Logits, that every pass over an image of `size` has at least one pixel and
  // could fit in memory (ann/efficiency/footprint.h); errors start with `path`.
  absl::Status CheckImage(const std::string& path, cv::Size size) const;

  // Logits [1, K, h, w] of a normalised input [1, 3, h, w] in the configured mode (whole or
  // slide), at the input's size.
  torch::Tensor Infer(const torch::Tensor& input);

  // Argmax of Logits as a uint8 [H, W] label map.
  static torch::Tensor Labels(const torch::Tensor& logits);

  const TestConfig& config() const { return config_; }

 private:
  torch::Tensor SlideInfer(const torch::Tensor& input);
  // The size one multi-scale pass runs at, for an image of `original` size.
  cv::Size PassSize(cv::Size original, double ratio) const;
  // The size one mscrop pass runs at, for an image of `original` size.
  static cv::Size MsCropPassSize(cv::Size original, double scale);
  torch::Tensor MsCropLogits(const cv::Mat& image_bgr);
  // The authors' _crop_predict: logits [1, K, h, w] averaged over crops of `input`.
  torch::Tensor CropPredict(const torch::Tensor& input);

  ModelConfig model_;
  NormalizeParams normalize_;
  TestConfig config_;
  Forward forward_;
};

// The crop starts along an axis of `length` in the authors' mscrop test: 0, stride, ...,
// ((length - crop) / stride) * stride, plus length - crop when that leaves pixels uncovered.
std::vector<int64_t> CropStarts(int64_t length, int64_t crop, int64_t stride);

}  // namespace ann

#endif  // ANN_EVAL_PREDICTOR_H_
