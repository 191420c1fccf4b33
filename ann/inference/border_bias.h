// The bias of a composed convolution (compose_bottleneck.h) is not one value per channel: the
// first convolution's bias f passes through the second's zero padding, which pads the first's
// output (f, not 0, where its input is 0). Over positions p the bias is the map
//   b + sum_t [p + t inside the image] W_t f,
// equal to its interior value b + sum_t W_t f away from the border. A composed node carries the
// interior value as its bias and this map's border, which executors add after the convolution.
#ifndef ANN_INFERENCE_BORDER_BIAS_H_
#define ANN_INFERENCE_BORDER_BIAS_H_

#include <array>
#include <cstdint>

#include "torch/torch.h"

namespace ann {

class BorderBias {
 public:
  // `taps` [out, 1, kh, kw] float64: W_t f per tap; `bias` [out] float64: b; the second conv's
  // padding and dilation (it keeps the size: (kernel - 1) * dilation = 2 * padding).
  BorderBias(torch::Tensor taps, torch::Tensor bias, std::array<int64_t, 2> padding,
             std::array<int64_t, 2> dilation);
  // [out] float64: the map away from the border.
  const torch::Tensor& interior() const { return interior64_; }
  // What the map is made of, for writers of the same computation (the ONNX export): the map is
  // conv(ones [1, 1, H, W], taps, bias) with the padding and dilation.
  const torch::Tensor& taps() const { return taps_; }
  const torch::Tensor& bias() const { return bias64_; }
  const std::array<int64_t, 2>& padding() const { return padding_; }
  const std::array<int64_t, 2>& dilation() const { return dilation_; }
  // Adds to `sum` [N, out, H, W] (float32) the map minus its interior value: rows and columns
  // within `padding` of the border only.
  void AddTo(torch::Tensor& sum) const;

 private:
  // The map on a height x width image [1, out, height, width], float64.
  torch::Tensor Map(int64_t height, int64_t width) const;
  // Map minus the interior value, float32.
  torch::Tensor Border(int64_t height, int64_t width) const;

  torch::Tensor taps_, bias64_, interior64_;
  torch::Tensor border_;  // Border on a (2 ph + 1) x (2 pw + 1) image
  std::array<int64_t, 2> padding_, dilation_;
};

}  // namespace ann

#endif  // ANN_INFERENCE_BORDER_BIAS_H_
