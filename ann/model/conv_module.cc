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

void FoldBatchNormInto(torch::nn::Conv2dImpl& conv, const SyncBatchNormImpl& bn) {
  torch::NoGradGuard no_grad;
  const torch::Tensor scale = bn.weight.to(torch::kDouble) /
                              torch::sqrt(bn.running_var.to(torch::kDouble) + bn.options.eps());
  const torch::Tensor old_bias =
      conv.bias.defined() ? conv.bias.to(torch::kDouble) : torch::zeros_like(scale);
  const torch::Tensor bias =
      bn.bias.to(torch::kDouble) + (old_bias - bn.running_mean.to(torch::kDouble)) * scale;
  const auto dtype = conv.weight.scalar_type();
  conv.weight.copy_((conv.weight.to(torch::kDouble) * scale.view({-1, 1, 1, 1})).to(dtype));
  if (conv.bias.defined()) {
    conv.bias.copy_(bias.to(dtype));
  } else {
    // A bias-free Conv2d has "bias" registered as an undefined tensor, which cannot be
    // replaced: the new bias is the member forward() reads, outside the registered parameters.
    conv.bias = bias.to(dtype);
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
