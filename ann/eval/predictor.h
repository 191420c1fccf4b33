// Whole-image prediction for one decoded image: normalise, run the segmentor in eval mode
// without autograd, return logits at the image's own size. The place where inference modes
// (slide, multi-scale + flip) plug in.
#ifndef ANN_EVAL_PREDICTOR_H_
#define ANN_EVAL_PREDICTOR_H_

#include "ann/model/segmentor.h"
#include "opencv2/core.hpp"
#include "torch/torch.h"

namespace ann {

class Predictor {
 public:
  explicit Predictor(EncoderDecoder model);

  // Logits [K, H, W] (float32, before argmax) for a BGR uint8 image of size H x W.
  torch::Tensor Logits(const cv::Mat& image_bgr);

  // Argmax of Logits as a uint8 [H, W] label map.
  static torch::Tensor Labels(const torch::Tensor& logits);

 private:
  EncoderDecoder model_;
};

}  // namespace ann

#endif  // ANN_EVAL_PREDICTOR_H_
