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
#include "ann/model/dnnl_conv.h"
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
  // The fused conv's inputs: each stage's attention (Attend), then `feats`; channels-last
  // when `feats` is.
  static std::vector<torch::Tensor> Inputs(torch::nn::ModuleList& stages,
                                           const torch::Tensor& query, const torch::Tensor& key,
                                           const torch::Tensor& feats);
  // The bottleneck's output, with the prepared weights, or with `live_weights` (or when none
  // are prepared) the current ones fused in this forward, so that gradients reach every
  // parameter.
  torch::Tensor Forward(torch::nn::ModuleList& stages, ConvModuleImpl& bottleneck,
                        const torch::Tensor& query, const torch::Tensor& key,
                        const torch::Tensor& feats, bool live_weights);
  // After Prepare: the prepared conv (and the bottleneck's ReLU) through oneDNN directly.
  void UseDnnl();

 private:
  torch::Tensor weight_, bias_;
  std::shared_ptr<DnnlConv> dnnl_;  // UseDnnl
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
  // The fused bottleneck's inputs (FusedBottleneck::Inputs) for these features.
  std::vector<torch::Tensor> FusedInputs(const torch::Tensor& low_feats,
                                         const torch::Tensor& high_feats);
  // Inference form: the attention's projections, and with `bottleneck` the (fused) bottleneck,
  // through oneDNN directly (DnnlConv) on inputs in `dtype`.
  void UseDnnl(torch::ScalarType dtype, bool bottleneck);

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
  // Inference form: the attention's projections and the (fused) bottleneck through oneDNN.
  void UseDnnl(torch::ScalarType dtype);

  torch::nn::ModuleList stages{nullptr};
  ConvModule bottleneck{nullptr};  // 1x1 + BN + ReLU.
  BatchDropout2d dropout{nullptr};

 private:
  FusedBottleneck fused_;
};
TORCH_MODULE(APNB);

// The inference form of AFNB followed by the head's 3x3 bottleneck, as one convolution.
// AFNB's output is its fused bottleneck, a 1x1 conv (F, f) of cat(a_1..a_n, feats) with no
// activation (its BN folded; its dropout, and the head's, identities in eval), and the head's
// bottleneck is a conv (W, b) of that output, then ReLU. Per tap t, W_t F is a conv of the
// concatenation itself. Zero padding pads AFNB's output, which would be f (not 0) where the
// concatenation is 0, so the bias is a map over positions p,
//   b + sum_t [p + t inside the image] W_t f,
// applied as its interior value (the conv's bias) and corrections on the border rows and
// columns. At 512x1024 (R-50/101) the 1x1 conv's 77 GFLOP go and the 3x3 conv reads 2304
// channels instead of 2048: 232 -> 174 GFLOP. The conv runs as one conv per attention map and
// per 512 channels of feats (DnnlConv), accumulated in float32 (oneDNN's sum post-op) and
// rounded once: oneDNN 2.6 runs those faster than one conv over 2304 channels, in bf16 and fp32
// alike (measured on Intel AMX).
class ComposedBottleneck {
 public:
  // Whether composing saves multiply-adds and applies: `conv` keeps the size (stride 1,
  // (kernel - 1) * dilation = 2 * padding) and AFNB's bottleneck is fused.
  static bool Pays(AFNBImpl& fusion, const torch::nn::Conv2dImpl& conv);
  // From the current (BN-folded) weights of AFNB and `bottleneck`, computed in float64, stored
  // in `dtype`, channels-last, as the convolutions Forward runs.
  void Prepare(AFNBImpl& fusion, ConvModuleImpl& bottleneck, torch::ScalarType dtype);
  bool prepared() const { return !chunks_.empty() && chunks_[0].conv != nullptr; }
  // The head bottleneck's output from AFNB's fused inputs (AFNBImpl::FusedInputs), in their
  // dtype.
  torch::Tensor Forward(const std::vector<torch::Tensor>& inputs) const;

  // One convolution per attention map and per 512 channels of feats, summed in float32.
  struct Chunk {
    size_t input;                    // which of the inputs
    int64_t start, length;           // its channels
    std::shared_ptr<DnnlConv> conv;  // Prepare: float32 output; the first adds the interior bias
    torch::Tensor weight, bias;      // PrepareWeights: float32; bias on the first chunk only
  };
  const std::vector<Chunk>& chunks() const { return chunks_; }

  // The chunks' weights and biases only, in float32, for others to run (the int8 forward): then
  // AddBorderBias on their sum, and the ReLU when relu().
  void PrepareWeights(AFNBImpl& fusion, ConvModuleImpl& bottleneck);
  bool has_weights() const { return !chunks_.empty() && chunks_[0].weight.defined(); }
  std::array<int64_t, 2> padding() const { return {padding_[0], padding_[1]}; }
  std::array<int64_t, 2> dilation() const { return {dilation_[0], dilation_[1]}; }
  bool relu() const { return relu_; }
  // Adds to `sum` [N, out, H, W] (float32) the bias map minus its interior value.
  void AddBorderBias(torch::Tensor& sum) const;

 private:
  // The composed weight in float64; sets everything but the chunks.
  torch::Tensor Compose(AFNBImpl& fusion, ConvModuleImpl& bottleneck);
  // The chunks of `composed`, with DnnlConvs in `dtype` (run) or float32 weights (!run).
  void MakeChunks(AFNBImpl& fusion, const torch::Tensor& composed, bool run,
                  torch::ScalarType dtype);
  // The bias map [1, out, height, width] in float64, and minus its interior value in float32.
  torch::Tensor BiasMap(int64_t height, int64_t width) const;
  torch::Tensor Border(int64_t height, int64_t width) const;

  std::vector<Chunk> chunks_;
  torch::Tensor taps_;        // [out, 1, kh, kw] float64: W_t f
  torch::Tensor bias64_;      // b, float64
  torch::Tensor interior64_;  // [out] float64: the map's interior value
  torch::Tensor border_;      // [1, out, 2 ph + 1, 2 pw + 1] float32: the map minus bias_
  int64_t padding_[2] = {0, 0};
  int64_t dilation_[2] = {1, 1};
  bool relu_ = true;
};

// mmseg's ANNHead: AFNB fuses C4 and C5, a 3x3 bottleneck, APNB, the classifier.
class ANNHeadImpl : public DecodeHeadImpl {
 public:
  explicit ANNHeadImpl(const ModelConfig& config);
  // `inputs` are the backbone outputs C2..C5; uses C4 and C5.
  torch::Tensor forward(const std::vector<torch::Tensor>& inputs);

  // Inference form, after AFNB's PrepareFused: AFNB's bottleneck and this head's composed
  // (ComposedBottleneck) where that saves work. kInt8: only its weights, in float32, for the
  // int8 forward to quantize (this head's forward then runs them uncomposed).
  void PrepareComposed(Precision precision);
  bool composed() const { return composed_.prepared(); }
  const ComposedBottleneck& composed_bottleneck() const { return composed_; }
  // Inference form, after PrepareComposed: every convolution that still runs, but the
  // classifier's, through oneDNN directly (DnnlConv) on inputs in `dtype`.
  void UseDnnl(torch::ScalarType dtype);

  AFNB fusion{nullptr};
  ConvModule bottleneck{nullptr};
  APNB context{nullptr};

 private:
  ComposedBottleneck composed_;
};
TORCH_MODULE(ANNHead);

}  // namespace ann

#endif  // ANN_MODEL_ANN_HEAD_H_
