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

ConvWeights FoldBatchNormWeights(const torch::Tensor& weight, const torch::Tensor& bias,
                                const torch::Tensor& gamma, const torch::Tensor& beta,
                                const torch::Tensor& running_mean, const torch::Tensor& running_var,
                                double eps) {
  torch::NoGradGuard no_grad;
  const torch::Tensor scale =
      gamma.to(torch::kDouble) / torch::sqrt(running_var.to(torch::kDouble) + eps);
  const torch::Tensor old_bias = bias.defined() ? bias.to(torch::kDouble) : torch::zeros_like(scale);
  const torch::Tensor folded_bias =
      beta.to(torch::kDouble) + (old_bias - running_mean.to(torch::kDouble)) * scale;
  const auto dtype = weight.scalar_type();
  return {(weight.to(torch::kDouble) * scale.view({-1, 1, 1, 1})).to(dtype),
          folded_bias.to(dtype)};
}

void FoldBatchNormInto(torch::nn::Conv2dImpl& conv, const SyncBatchNormImpl& bn) {
  torch::NoGradGuard no_grad;
  const ConvWeights folded = FoldBatchNormWeights(conv.weight, conv.bias, bn.weight, bn.bias,
                                                 bn.running_mean, bn.running_var, bn.options.eps());
  conv.weight.copy_(folded.weight);
  if (conv.bias.defined()) {
    conv.bias.copy_(folded.bias);
  } else {
    // A bias-free Conv2d has "bias" registered as an undefined tensor, which cannot be
    // replaced: the new bias is the member forward() reads, outside the registered parameters.
    conv.bias = folded.bias;
  }
}

void ConvertConvBiases(torch::nn::Module& module, torch::ScalarType dtype) {
  for (const auto& m : module.modules()) {
    if (auto* conv = m->as<torch::nn::Conv2dImpl>()) {
      if (conv->bias.defined() && conv->bias.scalar_type() != dtype) {
        conv->bias = conv->bias.to(dtype);
      }
    }
  }
}

torch::Tensor MaybeBatchNorm(SyncBatchNorm& bn, const torch::Tensor& x) {
  return bn ? bn->forward(x) : x;
}

void FoldBatchNormAway(torch::nn::Conv2d& conv, SyncBatchNorm& bn) {
  if (!bn) return;
  FoldBatchNormInto(*conv, *bn);
  bn = nullptr;
}

torch::nn::Sequential FoldSequential(const torch::nn::Sequential& sequential) {
  torch::nn::Sequential folded;
  for (size_t i = 0; i < sequential->size(); ++i) {
    const std::shared_ptr<torch::nn::Module> module = sequential->ptr(i);
    if (auto conv = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(module)) {
      if (i + 1 < sequential->size()) {
        if (auto* bn = sequential->ptr(i + 1)->as<SyncBatchNormImpl>()) {
          FoldBatchNormInto(*conv, *bn);
          ++i;
        }
      }
      folded->push_back(torch::nn::Conv2d(conv));
    } else if (auto relu = std::dynamic_pointer_cast<torch::nn::ReLUImpl>(module)) {
      folded->push_back(torch::nn::ReLU(relu));
    } else if (auto bn = std::dynamic_pointer_cast<SyncBatchNormImpl>(module)) {
      folded->push_back(SyncBatchNorm(bn));  // not after a conv: kept
    } else {
      TORCH_CHECK(false, "FoldSequential: unexpected module ", module->name());
    }
  }
  return folded;
}

void ConvModuleImpl::FoldBatchNorm() { FoldBatchNormAway(conv, bn); }

void ConvModuleImpl::UseDnnl(torch::ScalarType dtype) {
  TORCH_CHECK(!bn, "UseDnnl: fold the BN first");
  dnnl_ = std::make_shared<DnnlConv>(*conv, dtype);
}

torch::Tensor ConvModuleImpl::forward(torch::Tensor x) {
  if (dnnl_ && x.scalar_type() == dnnl_->dtype()) return dnnl_->Forward(x, relu_);
  return NormAndActivate(conv->forward(x));
}

torch::Tensor ConvModuleImpl::NormAndActivate(torch::Tensor x) {
  if (bn) x = bn->forward(x);
  // In place, as mmcv's ConvModule (ReLU(inplace=True)): neither BN's nor the conv's backward
  // needs its output.
  if (relu_) x = x.relu_();
  return x;
}

}  // namespace ann
