#include "ann/model/data_parallel.h"

#include <cstdint>
#include <vector>

namespace ann {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kReduceDims[] = {0, 2, 3};

torch::Tensor PerChannel(const torch::Tensor& t) { return t.view({1, -1, 1, 1}); }

// PyTorch's SyncBatchNorm as one autograd function: statistics and the backward reductions over
// every rank's batch. Per-channel statistics are combined in float64.
struct SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::Tensor running_mean, torch::Tensor running_var, double eps,
                               double momentum, BatchGroup* group) {
    const int64_t channels = x.size(1);
    const double count = static_cast<double>(x.numel() / channels);
    // This rank's mean and sum of squared deviations (Welford, accumulated in double).
    auto [var, mean] = torch::var_mean(x, torch::IntArrayRef(kReduceDims), /*unbiased=*/false,
                                       /*keepdim=*/false);
    const torch::Tensor local =
        torch::cat({mean.to(torch::kDouble), var.to(torch::kDouble) * count,
                    torch::full({1}, count, torch::TensorOptions().dtype(torch::kDouble))});
    const torch::Tensor all = group->AllGather(local);  // [world, 2C + 1]
    const torch::Tensor means = all.narrow(1, 0, channels);
    const torch::Tensor m2 = all.narrow(1, channels, channels);
    const torch::Tensor counts = all.narrow(1, 2 * channels, 1);
    const double total = counts.sum().item<double>();
    const torch::Tensor global_mean = (means * counts).sum(0) / total;
    const torch::Tensor global_var =
        (m2 + counts * (means - global_mean).square()).sum(0) / total;  // biased
    const torch::Tensor invstd = (global_var + eps).rsqrt();
    {
      torch::NoGradGuard no_grad;
      running_mean.mul_(1 - momentum).add_(global_mean.to(running_mean.dtype()) * momentum);
      const double unbiased = total > 1 ? total / (total - 1) : 1.0;
      running_var.mul_(1 - momentum)
          .add_((global_var * unbiased).to(running_var.dtype()) * momentum);
    }
    const torch::Tensor alpha = invstd * weight.to(torch::kDouble);
    const torch::Tensor beta = bias.to(torch::kDouble) - global_mean * alpha;
    const auto dtype = x.scalar_type();
    ctx->save_for_backward({x, weight, global_mean.to(dtype), invstd.to(dtype)});
    ctx->saved_data["count"] = total;
    ctx->saved_data["group"] = reinterpret_cast<int64_t>(group);
    return x * PerChannel(alpha.to(dtype)) + PerChannel(beta.to(dtype));
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& weight = saved[1];
    const torch::Tensor& mean = saved[2];
    const torch::Tensor& invstd = saved[3];
    const double total = ctx->saved_data["count"].toDouble();
    auto* group = reinterpret_cast<BatchGroup*>(ctx->saved_data["group"].toInt());
    const torch::Tensor& dy = grad_outputs[0];
    const int64_t channels = x.size(1);
    const torch::Tensor xmu = x - PerChannel(mean);
    const torch::Tensor sum_dy = dy.sum(torch::IntArrayRef(kReduceDims), false, torch::kDouble);
    const torch::Tensor sum_dy_xmu =
        (dy * xmu).sum(torch::IntArrayRef(kReduceDims), false, torch::kDouble);
    const torch::Tensor all = group->AllReduceSum(torch::cat({sum_dy, sum_dy_xmu}));
    const torch::Tensor mean_dy = all.narrow(0, 0, channels) / total;
    const torch::Tensor mean_dy_xmu = all.narrow(0, channels, channels) / total;
    const torch::Tensor invstd64 = invstd.to(torch::kDouble);
    const auto dtype = x.scalar_type();
    const torch::Tensor grad_input =
        (dy - PerChannel(mean_dy.to(dtype)) -
         xmu * PerChannel((invstd64.square() * mean_dy_xmu).to(dtype))) *
        PerChannel((invstd64 * weight.to(torch::kDouble)).to(dtype));
    // This rank's share of the parameter gradients (the gradient all-reduce sums the rest).
    const torch::Tensor grad_weight = (sum_dy_xmu * invstd64).to(weight.scalar_type());
    const torch::Tensor grad_bias = sum_dy.to(weight.scalar_type());
    return {grad_input,      grad_weight,     grad_bias,       torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

SyncBatchNormImpl::SyncBatchNormImpl(const torch::nn::BatchNormOptions& options)
    : options(options) {
  reset();
}

void SyncBatchNormImpl::reset() {
  TORCH_CHECK(options.affine() && options.track_running_stats(),
              "SyncBatchNorm needs affine parameters and running statistics");
  const int64_t n = options.num_features();
  weight = register_parameter("weight", torch::ones({n}));
  bias = register_parameter("bias", torch::zeros({n}));
  running_mean = register_buffer("running_mean", torch::zeros({n}));
  running_var = register_buffer("running_var", torch::ones({n}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
}

void SyncBatchNormImpl::pretty_print(std::ostream& stream) const {
  stream << "ann::SyncBatchNorm(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=" << options.momentum().value_or(-1) << ")";
}

torch::Tensor SyncBatchNormImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4, "SyncBatchNorm expects [B, C, H, W], got ", x.sizes());
  // torch's BatchNormImplBase::forward: count the batch, momentum None = cumulative average.
  double momentum = options.momentum().value_or(0.0);
  if (is_training()) {
    {
      torch::NoGradGuard no_grad;
      num_batches_tracked.add_(1);
    }
    if (!options.momentum().has_value()) {
      momentum = 1.0 / num_batches_tracked.item<double>();
    }
  }
  if (!is_training() || group_ == nullptr || group_->world_size() == 1) {
    return torch::batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum,
                             options.eps(), at::globalContext().userEnabledCuDNN());
  }
  // Under bf16 autocast the convolution before gives bfloat16: the statistics are taken in the
  // parameters' dtype.
  const torch::Tensor input = x.scalar_type() == weight.scalar_type() ? x : x.to(weight.dtype());
  return SyncBatchNormFunction::apply(input, weight, bias, running_mean, running_var, options.eps(),
                                      momentum, group_);
}

torch::Tensor BatchDropout2dImpl::forward(const torch::Tensor& x) {
  const double p = options.p();
  if (!is_training() || p == 0 || x.numel() == 0) return x;
  if (p == 1) return x * torch::zeros({}, x.options());
  TORCH_CHECK(x.dim() == 4, "BatchDropout2d expects [B, C, H, W], got ", x.sizes());
  // ATen's feature dropout (make_feature_noise, bernoulli_(1 - p), div_(1 - p)) drawn for the
  // global batch; this rank's rows.
  const int64_t b = x.size(0);
  torch::Tensor noise = torch::empty({world_size_ * b, x.size(1), 1, 1}, x.options());
  noise.bernoulli_(1 - p);
  noise.div_(1 - p);
  return x * noise.narrow(0, rank_ * b, b);
}

void SetDataParallel(torch::nn::Module& module, BatchGroup* group, int rank, int world_size) {
  for (const auto& m : module.modules()) {
    if (auto* bn = m->as<SyncBatchNormImpl>()) bn->set_group(group);
    if (auto* dropout = m->as<BatchDropout2dImpl>()) dropout->set_slice(rank, world_size);
  }
}

}  // namespace ann
