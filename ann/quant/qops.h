// The int8 forward's operations on LibTorch's quantized (quint8, per tensor) tensors, besides its
// convolutions (Int8Conv): quantizing, dequantizing and concatenating, the last through the
// dispatcher (its C++ API is not in LibTorch's public headers).
#ifndef ANN_QUANT_QOPS_H_
#define ANN_QUANT_QOPS_H_

#include <vector>

#include "torch/torch.h"

namespace ann {

// quantize_per_tensor(x, scale, zero_point, kQUInt8) and q.dequantize(), bit for bit, about 3x
// faster: LibTorch 1.13 as Debian builds it (no FBGEMM) runs both as scalar loops (2M values:
// 4.0 ms to quantize, 2.0 to dequantize, against 1.1 and 0.9 as vectorised tensor arithmetic,
// Intel AMX machine, 2 threads). The same closed forms: code = clamp(zero_point +
// round_half_even(x * (1.0f / scale)), 0, 255) in float32, and (code - zero_point) * scale.
// Memory format is kept.
torch::Tensor QuantizeUint8(const torch::Tensor& x, double scale, int64_t zero_point);
torch::Tensor Dequantize(const torch::Tensor& q);

// The concatenation of `tensors` along `dim`, requantized to (scale, zero_point).
torch::Tensor QuantizedCat(const std::vector<torch::Tensor>& tensors, int64_t dim, double scale,
                           int64_t zero_point);

}  // namespace ann

#endif  // ANN_QUANT_QOPS_H_
