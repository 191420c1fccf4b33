#include "ann/model/conv_module.h"

namespace ann {

ConvModuleImpl::ConvModuleImpl(const ConvModuleOptions& options) : relu_(options.relu()) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(options.in_channels(),
                                                                            options.out_channels(),
                                                                            options.kernel_size())
                                                       .stride(options.stride())
                                                       .padding(options.padding())
                                                       .dilation(options.dilation())
                                                       .bias(options.bias())));
  if (options.norm()) {
    bn = register_module("bn", torch::nn::BatchNorm2d(options.out_channels()));
  }
}

torch::Tensor ConvModuleImpl::forward(torch::Tensor x) {
  x = conv->forward(x);
  if (bn) x = bn->forward(x);
  if (relu_) x = torch::relu(x);
  return x;
}

}  // namespace ann
