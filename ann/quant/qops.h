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
