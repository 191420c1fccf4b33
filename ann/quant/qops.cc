#include "ann/quant/qops.h"

#include "ATen/core/dispatch/Dispatcher.h"
#include "ann/quant/calibration.h"

namespace ann {
namespace {

torch::List<int64_t> List(const std::vector<int64_t>& v) { return torch::List<int64_t>(v); }

}  // namespace

void UseOnednnQuantizedEngine() { at::globalContext().setQEngine(at::QEngine::ONEDNN); }

torch::Tensor QuantizeUint8(const torch::Tensor& x, double scale, int64_t zero_point) {
  const float inverse = 1.0f / static_cast<float>(scale);
  torch::Tensor codes = x.to(torch::kFloat).mul(inverse);
  codes.round_().add_(zero_point).clamp_(0, 255);
  return torch::_make_per_tensor_quantized_tensor(codes.to(torch::kByte), scale, zero_point);
}

torch::Tensor Dequantize(const torch::Tensor& q) {
  return q.int_repr()
      .to(torch::kFloat)
      .sub_(q.q_zero_point())
      .mul_(static_cast<float>(q.q_scale()));
}

PackedConv PackConv(const torch::Tensor& weight, const torch::Tensor& bias,
                    std::vector<int64_t> stride, std::vector<int64_t> padding,
                    std::vector<int64_t> dilation) {
  static const auto op =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("quantized::conv2d_prepack", "")
          .typed<PackedConv(at::Tensor, c10::optional<at::Tensor>, torch::List<int64_t>,
                            torch::List<int64_t>, torch::List<int64_t>, int64_t)>();
  return op.call(QuantizeWeightPerChannel(weight),
                 bias.defined() ? c10::optional<at::Tensor>(bias.to(torch::kFloat)) : c10::nullopt,
                 List(stride), List(padding), List(dilation), 1);
}

torch::Tensor ApplyConv(const PackedConv& conv, const torch::Tensor& x, bool relu, double scale,
                        int64_t zero_point) {
  if (!relu) return conv->apply(x, scale, zero_point);
  if (zero_point == 0) return conv->apply_relu(x, scale, zero_point);
  return torch::relu(conv->apply(x, scale, zero_point));
}

torch::Tensor QuantizedAddRelu(const torch::Tensor& a, const torch::Tensor& b, double scale,
                               int64_t zero_point) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("quantized::add_relu", "")
                             .typed<at::Tensor(at::Tensor, at::Tensor, double, int64_t)>();
  return op.call(a, b, scale, zero_point);
}

torch::Tensor QuantizedCat(const std::vector<torch::Tensor>& tensors, int64_t dim, double scale,
                           int64_t zero_point) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("quantized::cat", "")
                             .typed<at::Tensor(const c10::List<at::Tensor>&, int64_t,
                                               c10::optional<double>, c10::optional<int64_t>)>();
  // A Tensor[] in a c10::List carries no dispatch key: name the quantized kernel.
  return op.redispatch(c10::DispatchKeySet(c10::DispatchKey::QuantizedCPU),
                       c10::List<at::Tensor>(tensors), dim, scale, zero_point);
}

}  // namespace ann
