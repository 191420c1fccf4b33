// Base of every decode head (mmseg's BaseDecodeHead): owns the classifier `conv_seg` and the
// Dropout2d in front of it, so a concrete head is only its constructor and forward().
#ifndef ANN_MODEL_DECODE_HEAD_H_
#define ANN_MODEL_DECODE_HEAD_H_

#include <cstdint>

#include "ann/model/data_parallel.h"
#include "torch/torch.h"

namespace ann {

// mmseg's BaseDecodeHead: input selection, dropout and the classifier `conv_seg`; concrete
// heads implement only their constructor and forward.
class DecodeHeadImpl : public torch::nn::Module {
 public:
  DecodeHeadImpl(int64_t channels, int64_t num_classes, double dropout_ratio);

  // Dropout2d (training only) then the 1x1 classifier.
  torch::Tensor ClassifySegments(torch::Tensor features);

  // Re-initialises the classifier as mmseg does (normal, std 0.01, zero bias).
  void InitClassifier();

  torch::nn::Conv2d conv_seg{nullptr};
  BatchDropout2d dropout{nullptr};
};

}  // namespace ann

#endif  // ANN_MODEL_DECODE_HEAD_H_
