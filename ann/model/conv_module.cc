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
    bn = register_module("bn", SyncBatchNorm(options.out_channels()));
  }
}

torch::Tensor ConvModuleImpl::forward(torch::Tensor x) { return NormAndActivate(conv->forward(x)); }

torch::Tensor ConvModuleImpl::NormAndActivate(torch::Tensor x) {
  if (bn) x = bn->forward(x);
  // In place, as mmcv's ConvModule (ReLU(inplace=True)): neither BN's nor the conv's backward
  // needs its output.
  if (relu_) x = x.relu_();
  return x;
}

}  // namespace ann
