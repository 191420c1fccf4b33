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

// The bottleneck of AFNB / APNB, bottleneck(cat(sum_i stage_i(query, key), feats)), computed
// without the sum: every stage ends in out_project, a 1x1 conv W_o,i (+ b_o,i), and the
// bottleneck starts with a 1x1 conv [W_c | W_f] (+ b) whose columns W_c read the context, so
//   conv(cat(a_1..a_n, feats), [W_c W_o,1 | ... | W_c W_o,n | W_f]) + W_c sum_i b_o,i + b
// with a_i the stages' attention (Attend) is the same function. For AFNB (a 2048-wide context
// from 256-wide attention) it halves the bottleneck's multiply-adds and never materialises the
// context or its 4096-wide concatenation. Equal up to rounding, so the model as loaded (eval
// without PrepareFused) keeps the literal order, bit-identical to mmseg; training and the
// inference form use this.
class FusedBottleneck {
 public:
  // Whether fusing saves work: the attention is narrower than the context.
  static bool Pays(torch::nn::ModuleList& stages);
  // Fixes the fused weights (computed in float64 from the current ones, stored in `dtype`,
  // channels-last) for inference.
  void Prepare(torch::nn::ModuleList& stages, ConvModuleImpl& bottleneck, torch::ScalarType dtype);
  bool prepared() const { return weight_.defined(); }
  // The prepared weight [out, attention + feats, 1, 1] and bias (may be undefined).
  const torch::Tensor& weight() const { return weight_; }
  const torch::Tensor& bias() const { return bias_; }
  // The bottleneck's output, with the prepared weights, or with `live_weights` (or when none
  // are prepared) the current ones fused in this forward, so that gradients reach every
  // parameter.
  torch::Tensor Forward(torch::nn::ModuleList& stages, ConvModuleImpl& bottleneck,
                        const torch::Tensor& query, const torch::Tensor& key,
                        const torch::Tensor& feats, bool live_weights);

 private:
  torch::Tensor weight_, bias_;
};

// Asymmetric Fusion Non-local Block.
class AFNBImpl : public torch::nn::Module {
 public:
  // `dropout` > 0 adds Dropout2d after the bottleneck's BN (authors' variant).
  AFNBImpl(int64_t low_in_channels, int64_t high_in_channels, int64_t channels,
           int64_t out_channels, const std::vector<int64_t>& pool_scales, bool conv_bias,
           double dropout);
  torch::Tensor forward(const torch::Tensor& low_feats, const torch::Tensor& high_feats);

  // Inference form: the bottleneck fused with the stages' out_project (FusedBottleneck).
  void PrepareFused(torch::ScalarType dtype);
  const FusedBottleneck& fused() const { return fused_; }

  torch::nn::ModuleList stages{nullptr};
  ConvModule bottleneck{nullptr};  // 1x1 + BN, no activation.
  BatchDropout2d dropout{nullptr};

 private:
  FusedBottleneck fused_;
};
TORCH_MODULE(AFNB);

// Asymmetric Pyramid Non-local Block.
class APNBImpl : public torch::nn::Module {
 public:
  APNBImpl(int64_t in_channels, int64_t channels, int64_t out_channels,
           const std::vector<int64_t>& pool_scales, bool conv_bias, double dropout);
  torch::Tensor forward(const torch::Tensor& feats);

  // Inference form: the bottleneck fused with the stage's out_project (FusedBottleneck).
  void PrepareFused(torch::ScalarType dtype);
  const FusedBottleneck& fused() const { return fused_; }

  torch::nn::ModuleList stages{nullptr};
  ConvModule bottleneck{nullptr};  // 1x1 + BN + ReLU.
  BatchDropout2d dropout{nullptr};

 private:
  FusedBottleneck fused_;
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
