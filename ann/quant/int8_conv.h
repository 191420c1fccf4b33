// An int8 convolution run through oneDNN directly (the library instance LibTorch links), for the
// int8 forward: uint8 activations per tensor (any zero point), int8 weights per output channel
// (QuantizeWeightPerChannel), a float32 bias, and in the same kernel the residual sum and ReLU
// (oneDNN post-ops) and the requantization to the output's (scale, zero point), or a float32
// or bfloat16 output. Weights are reordered into the kernel's layout once per input size and
// quantization. LibTorch 1.13's quantized conv cannot take the residual: it costs a separate
// quantized add + ReLU pass over every block's output (18 ms of a 230 ms R-50 forward at 512x1024).
//
//   Int8Conv conv3(weight, bias, {1, 1}, {0, 0}, {1, 1});          // BN already folded
//   torch::Tensor y = conv3.Forward(x, /*relu=*/true, {0.05, 0}, identity);
#ifndef ANN_QUANT_INT8_CONV_H_
#define ANN_QUANT_INT8_CONV_H_

#include <array>
#include <cstdint>
#include <memory>
#include <tuple>
#include <vector>

#include "ann/dnnl/primitive_cache.h"
#include "torch/torch.h"

namespace ann {

// The affine quantization of a uint8 tensor: value = scale * (code - zero_point).
struct QParams {
  double scale = 1;
  int64_t zero_point = 0;
};

class Int8Conv {
 public:
  // `weight` [O, I, kh, kw] and `bias` [O] (may be undefined) in float; groups 1.
  Int8Conv(const torch::Tensor& weight, const torch::Tensor& bias, std::array<int64_t, 2> stride,
           std::array<int64_t, 2> padding, std::array<int64_t, 2> dilation);
  ~Int8Conv();

  // conv(x), plus `residual` when defined, then ReLU when `relu`, quantized to `out`. `x` and
  // `residual` are per-tensor quint8 tensors, channels-last. With a residual (of the output's
  // shape) the result is written into the residual's memory, which must not be needed afterwards,
  // and returned as a quint8 tensor over it; otherwise into a new tensor. Thread-safe.
  torch::Tensor Forward(const torch::Tensor& x, bool relu, QParams out,
                        const torch::Tensor& residual = torch::Tensor()) const;
  // conv(x) + bias in `dtype` (kFloat or kBFloat16), plus `residual` when defined (of the
  // output's shape and dtype, channels-last: the result is written into it), then ReLU when
  // `relu`; no requantization.
  torch::Tensor ForwardFloat(const torch::Tensor& x, bool relu,
                             const torch::Tensor& residual = torch::Tensor(),
                             torch::ScalarType dtype = torch::kFloat) const;

  int64_t out_channels() const { return weight_.size(0); }

  // The largest weight code: 127, or 63 on CPUs without int8 dot products (VNNI, AMX), whose
  // kernels sum pairs of u8 x s8 products in saturating int16 (7-bit weights cannot overflow).
  static int64_t WeightMaxCode();

 private:
  // The primitive for one input size and quantization.
  struct Key {
    int64_t batch, height, width;
    bool relu, float_out, bf16_out, sum;
    double x_scale;
    int64_t x_zero_point;
    double out_scale;
    int64_t out_zero_point;
    double residual_scale;
    int64_t residual_zero_point;
    bool operator<(const Key& o) const;
    auto Tie() const {  // every field
      return std::tie(batch, height, width, relu, float_out, bf16_out, sum, x_scale, x_zero_point,
                      out_scale, out_zero_point, residual_scale, residual_zero_point);
    }
  };
  struct Primitive;
  std::shared_ptr<Primitive> Get(const Key& key) const;
  std::shared_ptr<Primitive> Build(const Key& key) const;
  torch::Tensor Run(const torch::Tensor& x, const Key& key, const torch::Tensor& out) const;
  Key MakeKey(const torch::Tensor& x, bool relu) const;
  std::vector<int64_t> OutSizes(const Key& key) const;  // [N, O, H', W']

  torch::Tensor weight_;  // [O, I, kh, kw] int8, contiguous
  torch::Tensor scales_;  // [O] float64: the weights' scales
  torch::Tensor bias_;    // [O] float32, or undefined
  int64_t stride_[2], padding_[2], dilation_[2];
  PrimitiveCache<Key, Primitive> cache_;
};

}  // namespace ann

#endif  // ANN_QUANT_INT8_CONV_H_
