#include "ann/model/fcn_head.h"

#include "ann/model/conv_module.h"

namespace ann {

FCNHeadImpl::FCNHeadImpl(const ModelConfig& config)
    : DecodeHeadImpl(config.auxiliary_channels(), config.num_classes, config.auxiliary_dropout()) {
  convs = register_module(
      "convs", torch::nn::Sequential(ConvModule(
                   ConvModuleOptions(config.c4_channels(), config.auxiliary_channels(), 3)
                       .padding(1)
                       .bias(config.head_conv_bias()))));
}

torch::Tensor FCNHeadImpl::forward(const std::vector<torch::Tensor>& inputs) {
  TORCH_CHECK(inputs.size() == 4, "FCNHead expects C2..C5, got ", inputs.size(), " maps");
  return ClassifySegments(convs->forward(inputs[2]));
}

}  // namespace ann
