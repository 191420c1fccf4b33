#include "ann/quant/qops.h"

#include "ATen/core/dispatch/Dispatcher.h"

namespace ann {
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
