#include "ann/model/non_local.h"

#include <cmath>

namespace ann {

NonLocalBlockImpl::NonLocalBlockImpl(int64_t in_channels, int64_t channels, int64_t out_channels)
    : channels_(channels) {
  key_project =
      register_module("key_project", ConvModule(ConvModuleOptions(in_channels, channels, 1)));
  value_project = register_module(
      "value_project", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, channels, 1)));
  out_project = register_module(
      "out_project", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, out_channels, 1)));
}

torch::Tensor NonLocalBlockImpl::forward(const torch::Tensor& x) {
  const int64_t batch = x.size(0), h = x.size(2), w = x.size(3);
  torch::Tensor key = key_project->forward(x).flatten(2);  // [B, C, N]
  // Scaling the [B, N, C] query instead of the [B, N, N] similarities saves an N x N buffer.
  torch::Tensor query = key.transpose(1, 2) * std::pow(static_cast<double>(channels_), -0.5);
  torch::Tensor value = value_project->forward(x).flatten(2).transpose(1, 2);  // [B, N, C]
  torch::Tensor sim = torch::softmax(torch::matmul(query, key), -1);           // [B, N, N]
  torch::Tensor context = torch::matmul(sim, value);                           // [B, N, C]
  context = context.transpose(1, 2).reshape({batch, channels_, h, w});
  return out_project->forward(context);
}

}  // namespace ann
