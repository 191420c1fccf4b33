// LibTorch's quantized operators the int8 forward uses, called through the dispatcher (their
// C++ API is not in LibTorch's public headers): packed convolutions (weights per output
// channel, symmetric int8: QuantizeWeightPerChannel), the residual add + ReLU and concatenation
// on uint8 activations. They run on the engine at::globalContext().qEngine() names (`onednn`).
#ifndef ANN_QUANT_QOPS_H_
#define ANN_QUANT_QOPS_H_

#include <vector>

#include "ATen/native/quantized/PackedParams.h"
#include "torch/torch.h"

namespace ann {

using PackedConv = c10::intrusive_ptr<ConvPackedParamsBase<2>>;

// Selects LibTorch's `onednn` quantized engine (VNNI / AMX-INT8 kernels).
void UseOnednnQuantizedEngine();

// quantize_per_tensor(x, scale, zero_point, kQUInt8) and q.dequantize(), bit for bit, about 3x
// faster: LibTorch 1.13 as Debian builds it (no FBGEMM) runs both as scalar loops (2M values:
// 4.0 ms to quantize, 2.0 to dequantize, against 1.1 and 0.9 as vectorised tensor arithmetic,
// Intel AMX machine, 2 threads). The same closed forms: code = clamp(zero_point +
// round_half_even(x * (1.0f / scale)), 0, 255) in float32, and (code - zero_point) * scale.
// Memory format is kept.
torch::Tensor QuantizeUint8(const torch::Tensor& x, double scale, int64_t zero_point);
torch::Tensor Dequantize(const torch::Tensor& q);

// A float convolution (`bias` may be undefined) packed for int8.
PackedConv PackConv(const torch::Tensor& weight, const torch::Tensor& bias,
                    std::vector<int64_t> stride, std::vector<int64_t> padding,
                    std::vector<int64_t> dilation);

// The packed convolution of uint8 `x`, optionally followed by ReLU, requantized to (scale,
// zero_point). The onednn engine's fused ReLU (apply_relu) is only right for a zero point of 0
// (LibTorch 1.13 clamps at code 0, not at the zero point: measured in qops_test); other zero
// points take a separate quantized ReLU. Calibrated ReLU outputs always have zero point 0.
torch::Tensor ApplyConv(const PackedConv& conv, const torch::Tensor& x, bool relu, double scale,
                        int64_t zero_point);

// relu(a + b) requantized to (scale, zero_point).
torch::Tensor QuantizedAddRelu(const torch::Tensor& a, const torch::Tensor& b, double scale,
                               int64_t zero_point);

// The concatenation of `tensors` along `dim`, requantized to (scale, zero_point).
torch::Tensor QuantizedCat(const std::vector<torch::Tensor>& tensors, int64_t dim, double scale,
                           int64_t zero_point);

}  // namespace ann

#endif  // ANN_QUANT_QOPS_H_
