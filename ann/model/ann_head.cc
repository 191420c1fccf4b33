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

}  // namespace

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
  torch::Tensor context = SumStages(stages, /*query=*/high_feats, /*key=*/low_feats);
  torch::Tensor out = bottleneck->forward(torch::cat({context, high_feats}, 1));
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
  torch::Tensor context = SumStages(stages, feats, feats);
  torch::Tensor out = bottleneck->forward(torch::cat({context, feats}, 1));
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
