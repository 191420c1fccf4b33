// The ANN decode head: AFNB fuses C4 (keys/values) into C5 (queries), a 3x3 bottleneck
// narrows to `channels`, APNB refines with self-attention over pyramid anchors, and the base
// head classifies. Names match mmseg's ANNHead (`fusion`, `bottleneck`, `context`).
#ifndef ANN_MODEL_ANN_HEAD_H_
#define ANN_MODEL_ANN_HEAD_H_

#include <cstdint>
#include <vector>

#include "ann/model/conv_module.h"
#include "ann/model/data_parallel.h"
#include "ann/model/decode_head.h"
#include "ann/model/model_config.h"
#include "ann/model/self_attention.h"
#include "torch/torch.h"

namespace ann {

// Asymmetric Fusion Non-local Block.
class AFNBImpl : public torch::nn::Module {
 public:
  // `dropout` > 0 adds Dropout2d after the bottleneck's BN (authors' variant).
  AFNBImpl(int64_t low_in_channels, int64_t high_in_channels, int64_t channels,
           int64_t out_channels, const std::vector<int64_t>& pool_scales, bool conv_bias,
           double dropout);
  torch::Tensor forward(const torch::Tensor& low_feats, const torch::Tensor& high_feats);

  torch::nn::ModuleList stages{nullptr};
  ConvModule bottleneck{nullptr};  // 1x1 + BN, no activation.
  BatchDropout2d dropout{nullptr};
};
TORCH_MODULE(AFNB);

// Asymmetric Pyramid Non-local Block.
class APNBImpl : public torch::nn::Module {
 public:
  APNBImpl(int64_t in_channels, int64_t channels, int64_t out_channels,
           const std::vector<int64_t>& pool_scales, bool conv_bias, double dropout);
  torch::Tensor forward(const torch::Tensor& feats);

  torch::nn::ModuleList stages{nullptr};
  ConvModule bottleneck{nullptr};  // 1x1 + BN + ReLU.
  BatchDropout2d dropout{nullptr};
};
TORCH_MODULE(APNB);

// mmseg's ANNHead: AFNB fuses C4 and C5, a 3x3 bottleneck, APNB, the classifier.
class ANNHeadImpl : public DecodeHeadImpl {
 public:
  explicit ANNHeadImpl(const ModelConfig& config);
  // `inputs` are the backbone outputs C2..C5; uses C4 and C5.
  torch::Tensor forward(const std::vector<torch::Tensor>& inputs);

  AFNB fusion{nullptr};
  ConvModule bottleneck{nullptr};
  APNB context{nullptr};
};
TORCH_MODULE(ANNHead);

}  // namespace ann

#endif  // ANN_MODEL_ANN_HEAD_H_
