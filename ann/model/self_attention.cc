#include "ann/model/self_attention.h"

#include <cmath>

namespace ann {

torch::Tensor PyramidPooling(const torch::Tensor& x, const std::vector<int64_t>& scales) {
  TORCH_CHECK(x.dim() == 4, "PyramidPooling expects [B, C, H, W], got ", x.sizes());
  std::vector<torch::Tensor> pooled;
  pooled.reserve(scales.size());
  for (int64_t s : scales) {
    pooled.push_back(torch::adaptive_avg_pool2d(x, {s, s}).flatten(2));
  }
  return torch::cat(pooled, /*dim=*/2);
}

namespace {

// [B, C, h, w] -> [B, h*w, C]: a view either way (of channels-last memory, or a transposed one).
torch::Tensor Tokens(const torch::Tensor& x) {
  if (!x.is_contiguous() && x.is_contiguous(torch::MemoryFormat::ChannelsLast)) {
    return x.permute({0, 2, 3, 1}).flatten(1, 2);
  }
  return x.flatten(2).transpose(1, 2);
}

}  // namespace

int64_t PyramidAnchorCount(const std::vector<int64_t>& scales) {
  int64_t total = 0;
  for (int64_t s : scales) total += s * s;
  return total;
}

SelfAttentionBlockImpl::SelfAttentionBlockImpl(const SelfAttentionOptions& options)
    : options_(options) {
  key_project = register_module(
      "key_project", ConvModule(ConvModuleOptions(options.key_in_channels(), options.channels(), 1)
                                    .bias(options.key_query_bias())));
  if (options.share_key_query()) {
    TORCH_CHECK(options.key_in_channels() == options.query_in_channels(),
                "shared key/query needs equal input widths");
    query_project = register_module("query_project", key_project);
  } else {
    query_project = register_module(
        "query_project",
        ConvModule(ConvModuleOptions(options.query_in_channels(), options.channels(), 1)
                       .bias(options.key_query_bias())));
  }
  value_project =
      register_module("value_project", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                           options.key_in_channels(), options.channels(), 1)));
  out_project = register_module("out_project", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                   options.channels(), options.out_channels(), 1)));
}

torch::Tensor SelfAttentionBlockImpl::forward(const torch::Tensor& query_feats,
                                              const torch::Tensor& key_feats) {
  return out_project->forward(Attend(query_feats, key_feats));
}

torch::Tensor SelfAttentionBlockImpl::Attend(const torch::Tensor& query_feats,
                                             const torch::Tensor& key_feats, bool channels_last) {
  const torch::Tensor key_map = key_project->forward(key_feats);
  const torch::Tensor query_map = options_.share_key_query() && query_feats.is_same(key_feats)
                                      ? key_map
                                      : query_project->forward(query_feats);
  const torch::Tensor value_map = value_project->forward(key_feats);
  return PyramidAttention(query_map, key_map, value_map, options_.pool_scales(), channels_last);
}

torch::Tensor PyramidAttention(const torch::Tensor& query_map, const torch::Tensor& key_map,
                               const torch::Tensor& value_map,
                               const std::vector<int64_t>& pool_scales, bool channels_last) {
  const int64_t batch = query_map.size(0);
  const int64_t channels = query_map.size(1);
  const int64_t h = query_map.size(2);
  const int64_t w = query_map.size(3);
  torch::Tensor query = Tokens(query_map);  // [B, N, C]
  torch::Tensor key =
      pool_scales.empty() ? key_map.flatten(2) : PyramidPooling(key_map, pool_scales);  // [B, C, S]
  torch::Tensor value =
      (pool_scales.empty() ? value_map.flatten(2) : PyramidPooling(value_map, pool_scales))
          .transpose(1, 2);  // [B, S, C]
  torch::Tensor sim = torch::matmul(query, key);
  sim = sim * std::pow(static_cast<double>(channels), -0.5);
  // In float32 also when the block runs in bfloat16 (as autocast does).
  sim = sim.scalar_type() == torch::kBFloat16
            ? torch::softmax(sim, /*dim=*/-1, torch::kFloat).to(torch::kBFloat16)
            : torch::softmax(sim, /*dim=*/-1);
  torch::Tensor context = torch::matmul(sim, value);  // [B, N, C]: channels-last [B, C, h, w]
  if (channels_last) return context.view({batch, h, w, channels}).permute({0, 3, 1, 2});
  return context.transpose(1, 2).reshape({batch, channels, h, w});
}

}  // namespace ann
