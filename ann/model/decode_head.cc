#include "ann/model/decode_head.h"

namespace ann {

DecodeHeadImpl::DecodeHeadImpl(int64_t channels, int64_t num_classes, double dropout_ratio) {
  conv_seg = register_module("conv_seg",
                             torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, num_classes, 1)));
  if (dropout_ratio > 0) {
    dropout = register_module("dropout", BatchDropout2d(dropout_ratio));
  }
}

torch::Tensor DecodeHeadImpl::ClassifySegments(torch::Tensor features) {
  if (dropout) features = dropout->forward(features);
  return conv_seg->forward(features);
}

void DecodeHeadImpl::InitClassifier() {
  torch::NoGradGuard no_grad;
  torch::nn::init::normal_(conv_seg->weight, 0.0, 0.01);
  torch::nn::init::zeros_(conv_seg->bias);
}

}  // namespace ann
