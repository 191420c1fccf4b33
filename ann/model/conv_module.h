// ConvModule: conv -> optional BN -> optional ReLU, registered as `conv` and `bn` like mmcv's
// ConvModule, so that its parameters carry mmseg's state_dict names.
#ifndef ANN_MODEL_CONV_MODULE_H_
#define ANN_MODEL_CONV_MODULE_H_

#include <cstdint>
#include <vector>

#include "ann/model/data_parallel.h"
#include "ann/model/dnnl_conv.h"
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
  // The BN (unless folded away) and ReLU that follow the conv, applied to `conv_out`.
  torch::Tensor NormAndActivate(torch::Tensor conv_out);

  // Inference form: BN folded into the conv (FoldBatchNormInto), then skipped (`bn` is null;
  // its parameters stay registered but unused).
  void FoldBatchNorm();
  // Whether a ReLU follows (the options' relu()).
  bool has_relu() const { return relu_; }
  // Inference form (after FoldBatchNorm): the conv and its ReLU through oneDNN directly
  // (DnnlConv) on inputs in `dtype`.
  void UseDnnl(torch::ScalarType dtype);

  torch::nn::Conv2d conv{nullptr};
  SyncBatchNorm bn{nullptr};

 private:
  bool relu_;
  std::shared_ptr<DnnlConv> dnnl_;  // UseDnnl
};
TORCH_MODULE(ConvModule);

// A convolution's weight [O, I, kh, kw] and bias ([O], or undefined).
struct ConvWeights {
  torch::Tensor weight, bias;
};

// A convolution's weight and bias with the eval-mode BatchNorm after it folded in: the weight
// scaled per output channel by gamma / sqrt(var + eps), the bias beta + (b - mean) * that scale
// (an undefined `bias` counts as 0), computed in float64 and returned in the weight's dtype.
ConvWeights FoldBatchNormWeights(const torch::Tensor& weight, const torch::Tensor& bias,
                                const torch::Tensor& gamma, const torch::Tensor& beta,
                                const torch::Tensor& running_mean, const torch::Tensor& running_var,
                                double eps);

// Folds eval-mode BatchNorm `bn` into the convolution `conv` before it: the weight scaled per
// output channel by gamma / sqrt(var + eps), the bias set to beta + (b - mean) * that scale
// (computed in float64, stored in the conv's dtype), so that conv'(x) = bn(conv(x)) up to
// rounding. A conv without a bias gets one as its `bias` member only (not a registered
// parameter: Module::to() does not convert it; ConvertConvBiases does).
void FoldBatchNormInto(torch::nn::Conv2dImpl& conv, const SyncBatchNormImpl& bn);

// Converts every Conv2d's `bias` member in `module` to `dtype` (those FoldBatchNormInto added).
void ConvertConvBiases(torch::nn::Module& module, torch::ScalarType dtype);

// FoldBatchNormInto, then `bn` set to null (skipped by MaybeBatchNorm); nothing if already null.
void FoldBatchNormAway(torch::nn::Conv2d& conv, SyncBatchNorm& bn);

// `bn`(x), or x when `bn` was folded away (null).
torch::Tensor MaybeBatchNorm(SyncBatchNorm& bn, const torch::Tensor& x);

// `sequential` with every Conv2d followed by a SyncBatchNorm replaced by the folded Conv2d (other
// modules, ReLU, kept in order).
torch::nn::Sequential FoldSequential(const torch::nn::Sequential& sequential);

}  // namespace ann

#endif  // ANN_MODEL_CONV_MODULE_H_
