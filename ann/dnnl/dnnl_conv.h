// A convolution of the inference form run through oneDNN directly: the same library instance
// (Debian's libdnnl 2.6) and kernels LibTorch's conv2d uses, without what LibTorch 1.13 adds
// around them. Its weights are reordered into the kernel's layout once per input size instead of
// on every call, and ReLU and the residual sum run inside the convolution (oneDNN post-ops: the
// sum accumulates into the residual's memory) instead of as two more passes over the output.
//
//   DnnlConv conv3(*block.conv3, torch::kBFloat16);        // BN already folded
//   torch::Tensor y = conv3.Forward(x, /*relu=*/true, identity);  // relu(conv(x) + identity)
#ifndef ANN_DNNL_DNNL_CONV_H_
#define ANN_DNNL_DNNL_CONV_H_

#include <array>
#include <cstdint>
#include <memory>
#include <tuple>

#include "ann/dnnl/primitive_cache.h"
#include "torch/torch.h"

namespace ann {

class DnnlConv {
 public:
  // `conv`'s current weight and bias (undefined: none) in `dtype` (kFloat or kBFloat16); the
  // bias is kept in float32. Groups must be 1.
  DnnlConv(const torch::nn::Conv2dImpl& conv, torch::ScalarType dtype);
  // A convolution with `weight` [O, I, kh, kw] and `bias` (may be undefined) in `dtype`, its
  // output in `out_dtype` (kFloat keeps a bf16 convolution's float32 accumulation unrounded, and
  // a float32 residual sums into it).
  DnnlConv(const torch::Tensor& weight, const torch::Tensor& bias, std::array<int64_t, 2> stride,
           std::array<int64_t, 2> padding, std::array<int64_t, 2> dilation, torch::ScalarType dtype,
           torch::ScalarType out_dtype);
  ~DnnlConv();

  // conv(x), plus `residual` when defined, then ReLU when `relu`. `x`: [N, C, H, W] in the dtype,
  // channels-last. With a residual the result is written into the residual's memory (it must be
  // channels-last, of the output's shape and out_dtype, and not needed afterwards) and returned;
  // otherwise into a new channels-last tensor. Safe to call from several threads.
  torch::Tensor Forward(const torch::Tensor& x, bool relu,
                        const torch::Tensor& residual = torch::Tensor()) const;

  int64_t out_channels() const { return weight_.size(0); }
  torch::ScalarType dtype() const { return dtype_; }

 private:
  struct Primitive;  // a oneDNN convolution and its reordered weights
  using Key = std::tuple<int64_t, int64_t, int64_t, bool, bool>;  // N, H, W, relu, sum
  std::shared_ptr<Primitive> Get(const Key& key) const;
  std::shared_ptr<Primitive> Build(const Key& key) const;

  torch::ScalarType dtype_, out_dtype_;
  torch::Tensor weight_;  // [O, I, kh, kw] contiguous, dtype
  torch::Tensor bias_;    // [O] float32, or undefined
  int64_t stride_[2], padding_[2], dilation_[2];
  PrimitiveCache<Key, Primitive> cache_;
};

}  // namespace ann

#endif  // ANN_DNNL_DNNL_CONV_H_
