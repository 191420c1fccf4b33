#include "ann/model/ann_head.h"

namespace ann {
namespace {

torch::Tensor SumStages(torch::nn::ModuleList& stages, const torch::Tensor& query,
                        const torch::Tensor& key) {
  torch::Tensor context;
  for (const auto& stage : *stages) {
    torch::Tensor prior = stage->as<SelfAttentionBlockImpl>()->forward(query, key);
    context = context.defined() ? context + prior : prior;
  }
  return context;
}

// [W_c W_o,1 | ... | W_f] and W_c sum_i b_o,i + b of `stages` and `conv`.
ConvWeights FuseWeights(torch::nn::ModuleList& stages, torch::nn::Conv2dImpl& conv,
                        torch::ScalarType dtype) {
  std::vector<torch::Tensor> out_weights, out_biases;
  for (const auto& stage : *stages) {
    const torch::nn::Conv2dImpl& out = *stage->as<SelfAttentionBlockImpl>()->out_project;
    out_weights.push_back(out.weight);
    out_biases.push_back(out.bias);
  }
  return FuseBottleneckWeights(out_weights, out_biases, conv.weight, conv.bias, dtype);
}

}  // namespace

ConvWeights FuseBottleneckWeights(const std::vector<torch::Tensor>& out_weights,
                                  const std::vector<torch::Tensor>& out_biases,
                                  const torch::Tensor& weight, const torch::Tensor& bias,
                                  torch::ScalarType dtype) {
  // Under bf16 autocast the products stay in the weights' precision; the convolution that
  // uses them is autocast.
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
  const torch::Tensor w = weight.to(dtype).flatten(1);  // [out, context + feats]
  const int64_t context = out_weights[0].size(0);
  const torch::Tensor w_c = w.narrow(1, 0, context);
  std::vector<torch::Tensor> columns;
  torch::Tensor out_bias;
  for (size_t i = 0; i < out_weights.size(); ++i) {
    columns.push_back(w_c.mm(out_weights[i].to(dtype).flatten(1)));
    if (out_biases[i].defined()) {
      out_bias = out_bias.defined() ? out_bias + out_biases[i].to(dtype) : out_biases[i].to(dtype);
    }
  }
  columns.push_back(w.narrow(1, context, w.size(1) - context));
  ConvWeights fused{torch::cat(columns, 1).view({w.size(0), -1, 1, 1}), {}};
  if (out_bias.defined()) fused.bias = w_c.mv(out_bias);
  if (bias.defined())
    fused.bias = fused.bias.defined() ? fused.bias + bias.to(dtype) : bias.to(dtype);
  return fused;
}

bool FusedBottleneck::Pays(torch::nn::ModuleList& stages) {
  int64_t attention = 0, context = 0;
  for (const auto& stage : *stages) {
    const auto* block = stage->as<SelfAttentionBlockImpl>();
    attention += block->options().channels();
    context = block->options().out_channels();
  }
  return attention < context;
}

torch::Tensor FusedBottleneck::Forward(torch::nn::ModuleList& stages, ConvModuleImpl& bottleneck,
                                       const torch::Tensor& query, const torch::Tensor& key,
                                       const torch::Tensor& feats) {
  // Each stage's attention, then `feats`; channels-last when `feats` is.
  const bool channels_last =
      !feats.is_contiguous() && feats.is_contiguous(torch::MemoryFormat::ChannelsLast);
  std::vector<torch::Tensor> inputs;
  for (const auto& stage : *stages) {
    inputs.push_back(stage->as<SelfAttentionBlockImpl>()->Attend(query, key, channels_last));
  }
  inputs.push_back(feats);
  const torch::Tensor x = torch::cat(inputs, 1);
  const ConvWeights fused =
      FuseWeights(stages, *bottleneck.conv, bottleneck.conv->weight.scalar_type());
  return bottleneck.NormAndActivate(torch::conv2d(x, fused.weight, fused.bias));
}

AFNBImpl::AFNBImpl(int64_t low_in_channels, int64_t high_in_channels, int64_t channels,
                   int64_t out_channels, const std::vector<int64_t>& pool_scales, bool conv_bias,
                   double dropout_ratio) {
  stages = register_module("stages", torch::nn::ModuleList());
  stages->push_back(SelfAttentionBlock(
      SelfAttentionOptions(low_in_channels, high_in_channels, channels, out_channels)
          .pool_scales(pool_scales)
          .key_query_bias(conv_bias)));
  bottleneck = register_module(
      "bottleneck", ConvModule(ConvModuleOptions(out_channels + high_in_channels, out_channels, 1)
                                   .bias(conv_bias)
                                   .relu(false)));
  if (dropout_ratio > 0) dropout = register_module("dropout", BatchDropout2d(dropout_ratio));
}

torch::Tensor AFNBImpl::forward(const torch::Tensor& low_feats, const torch::Tensor& high_feats) {
  torch::Tensor out;
  if (is_training() && FusedBottleneck::Pays(stages)) {
    out = FusedBottleneck::Forward(stages, *bottleneck, /*query=*/high_feats, /*key=*/low_feats,
                                   high_feats);
  } else {
    torch::Tensor context = SumStages(stages, /*query=*/high_feats, /*key=*/low_feats);
    out = bottleneck->forward(torch::cat({context, high_feats}, 1));
  }
  return dropout ? dropout->forward(out) : out;
}

APNBImpl::APNBImpl(int64_t in_channels, int64_t channels, int64_t out_channels,
                   const std::vector<int64_t>& pool_scales, bool conv_bias, double dropout_ratio) {
  stages = register_module("stages", torch::nn::ModuleList());
  stages->push_back(
      SelfAttentionBlock(SelfAttentionOptions(in_channels, in_channels, channels, in_channels)
                             .share_key_query(true)
                             .pool_scales(pool_scales)
                             .key_query_bias(conv_bias)));
  bottleneck = register_module(
      "bottleneck",
      ConvModule(ConvModuleOptions(2 * in_channels, out_channels, 1).bias(conv_bias)));
  if (dropout_ratio > 0) dropout = register_module("dropout", BatchDropout2d(dropout_ratio));
}

torch::Tensor APNBImpl::forward(const torch::Tensor& feats) {
  torch::Tensor out;
  if (is_training() && FusedBottleneck::Pays(stages)) {
    out = FusedBottleneck::Forward(stages, *bottleneck, feats, feats, feats);
  } else {
    torch::Tensor context = SumStages(stages, feats, feats);
    out = bottleneck->forward(torch::cat({context, feats}, 1));
  }
  return dropout ? dropout->forward(out) : out;
}

ANNHeadImpl::ANNHeadImpl(const ModelConfig& config)
    : DecodeHeadImpl(config.channels, config.num_classes, config.decode_dropout()) {
  const int64_t low = config.c4_channels();
  const int64_t high = config.c5_channels();
  fusion =
      register_module("fusion", AFNB(low, high, config.project_channels, high, config.pool_scales,
                                     config.head_conv_bias(), config.block_dropout()));
  bottleneck = register_module(
      "bottleneck",
      ConvModule(
          ConvModuleOptions(high, config.channels, 3).padding(1).bias(config.head_conv_bias())));
  context = register_module(
      "context", APNB(config.channels, config.project_channels, config.channels, config.pool_scales,
                      config.head_conv_bias(), config.block_dropout()));
}

torch::Tensor ANNHeadImpl::forward(const std::vector<torch::Tensor>& inputs) {
  TORCH_CHECK(inputs.size() == 4, "ANNHead expects C2..C5, got ", inputs.size(), " maps");
  torch::Tensor out = fusion->forward(/*low_feats=*/inputs[2], /*high_feats=*/inputs[3]);
  if (dropout) out = dropout->forward(out);
  out = bottleneck->forward(out);
  out = context->forward(out);
  return ClassifySegments(out);
}

}  // namespace ann
