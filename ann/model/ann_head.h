// The ANN decode head: AFNB fuses C4 (keys/values) into C5 (queries), a 3x3 bottleneck
// narrows to `channels`, APNB refines with self-attention over pyramid anchors, and the base
// head classifies. Names match mmseg's ANNHead (`fusion`, `bottleneck`, `context`).
#ifndef ANN_MODEL_ANN_HEAD_H_
#define ANN_MODEL_ANN_HEAD_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ann/model/conv_module.h"
#include "ann/model/data_parallel.h"
#include "ann/model/decode_head.h"
#include "ann/model/model_config.h"
#include "ann/model/self_attention.h"
#include "torch/torch.h"

namespace ann {

// The weights of FusedBottleneck below: the bottleneck conv `weight` [W_c | W_f] (+ `bias`)
// after the stages' out_project convs (`out_weights` W_o,i, `out_biases` b_o,i, may be undefined)
// as one conv of cat(a_1..a_n, feats): [W_c W_o,1 | ... | W_c W_o,n | W_f] and
// W_c sum_i b_o,i + b, computed in `dtype` (differentiable: training fuses its live weights; the
// inference graph's rewrite in float64).
ConvWeights FuseBottleneckWeights(const std::vector<torch::Tensor>& out_weights,
                                  const std::vector<torch::Tensor>& out_biases,
                                  const torch::Tensor& weight, const torch::Tensor& bias,
                                  torch::ScalarType dtype);

// The bottleneck of AFNB / APNB in training, bottleneck(cat(sum_i stage_i(query, key), feats)),
// computed without the sum: the same function as one conv of cat(a_1..a_n, feats) with the
// weights FuseBottleneckWeights builds in each forward (so gradients reach every parameter), which
// halves AFNB's bottleneck multiply-adds and never materialises the context or its 4096-wide
// concatenation. Equal up to rounding: eval keeps the literal order, bit-identical to mmseg (the
// inference graph fuses the same way: ann/inference/fuse_bottleneck.h).
class FusedBottleneck {
 public:
  // Whether fusing saves work: the attention is narrower than the context.
  static bool Pays(torch::nn::ModuleList& stages);
  // The bottleneck's output with the current weights fused.
  static torch::Tensor Forward(torch::nn::ModuleList& stages, ConvModuleImpl& bottleneck,
                               const torch::Tensor& query, const torch::Tensor& key,
                               const torch::Tensor& feats);
};

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
