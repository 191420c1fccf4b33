// ConvModule: conv -> optional BN -> optional ReLU, registered as `conv` and `bn` like mmcv's
// ConvModule, so that its parameters carry mmseg's state_dict names.
#ifndef ANN_MODEL_CONV_MODULE_H_
#define ANN_MODEL_CONV_MODULE_H_

#include <cstdint>
#include <vector>

#include "ann/model/data_parallel.h"
#include "torch/torch.h"

namespace ann {

// Convolution, optional BN and ReLU of a ConvModule.
struct ConvModuleOptions {
  ConvModuleOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, kernel_size);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, padding) = 0;
  TORCH_ARG(int64_t, dilation) = 1;
  TORCH_ARG(bool, bias) = false;  // mmcv's bias='auto' is false when a norm follows.
  TORCH_ARG(bool, norm) = true;
  TORCH_ARG(bool, relu) = true;
};

// mmcv's ConvModule: conv, then BN and ReLU (named conv / bn as mmcv registers them).
class ConvModuleImpl : public torch::nn::Module {
 public:
  explicit ConvModuleImpl(const ConvModuleOptions& options);
  torch::Tensor forward(torch::Tensor x);
  // The BN and ReLU that follow the conv, applied to `conv_out`.
  torch::Tensor NormAndActivate(torch::Tensor conv_out);
  // Whether a ReLU follows (the options' relu()).
  bool has_relu() const { return relu_; }

  torch::nn::Conv2d conv{nullptr};
  SyncBatchNorm bn{nullptr};

 private:
  bool relu_;
};
TORCH_MODULE(ConvModule);

// A convolution's weight [O, I, kh, kw] and bias ([O], or undefined).
struct ConvWeights {
  torch::Tensor weight, bias;
};

}  // namespace ann

#endif  // ANN_MODEL_CONV_MODULE_H_
