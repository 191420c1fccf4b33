// DnnlConv against LibTorch's conv2d (+ residual, ReLU) computed independently in float64, on
// odd, asymmetric sizes, strided, dilated and padded, with and without a bias.
#include "ann/dnnl/dnnl_conv.h"

#include "ann/util/cpu.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

struct Case {
  int64_t in, out, kernel, stride, padding, dilation;
  bool bias;
};

torch::Tensor Reference(torch::nn::Conv2dImpl& conv, const torch::Tensor& x,
                        const torch::Tensor& residual, bool relu) {
  const auto& o = conv.options;
  torch::Tensor y =
      torch::conv2d(x.to(torch::kDouble), conv.weight.to(torch::kDouble),
                    conv.bias.defined() ? conv.bias.to(torch::kDouble) : torch::Tensor(),
                    *o.stride(), c10::get<torch::ExpandingArray<2>>(o.padding()), *o.dilation());
  if (residual.defined()) y = y + residual.to(torch::kDouble);
  return relu ? y.relu() : y;
}

double RelativeError(const torch::Tensor& got, const torch::Tensor& expected) {
  return ((got.to(torch::kDouble) - expected).abs().max() / expected.abs().max()).item<double>();
}

TEST(DnnlConvTest, MatchesConvPlusResidualPlusRelu) {
  torch::manual_seed(11);
  torch::NoGradGuard no_grad;
  const std::vector<Case> cases = {{5, 7, 3, 1, 2, 2, true},
                                   {6, 9, 3, 2, 1, 1, false},
                                   {16, 24, 1, 1, 0, 1, true},
                                   {16, 8, 1, 2, 0, 1, false},
                                   // Multiples of 8 channels: on CPUs without AVX-512 these run
                                   // on nChw8c (or nchw for dilation 4), reordered in and out.
                                   {16, 24, 3, 1, 2, 2, true},
                                   {8, 16, 3, 2, 1, 1, false},
                                   {16, 8, 3, 1, 4, 4, true}};
  std::vector<torch::ScalarType> dtypes = {torch::kFloat};
  if (CpuHasBf16()) dtypes.push_back(torch::kBFloat16);
  for (const Case& c : cases) {
    const auto options = torch::nn::Conv2dOptions(c.in, c.out, c.kernel)
                             .stride(c.stride)
                             .padding(c.padding)
                             .dilation(c.dilation)
                             .bias(c.bias);
    torch::nn::Conv2d conv(options);
    for (torch::ScalarType dtype : dtypes) {
      DnnlConv dnnl(*conv, dtype);
      const torch::Tensor w = conv->weight.to(dtype).to(torch::kFloat);
      torch::nn::Conv2d rounded(options);
      rounded->weight.copy_(w);
      if (c.bias) rounded->bias.copy_(conv->bias);
      for (int64_t batch : {1, 2}) {
        const torch::Tensor x = torch::randn({batch, c.in, 13, 10})
                                    .to(dtype)
                                    .contiguous(torch::MemoryFormat::ChannelsLast);
        const torch::Tensor plain = dnnl.Forward(x, /*relu=*/false);
        const torch::Tensor expected = Reference(*rounded, x, {}, false);
        ASSERT_EQ(plain.sizes(), expected.sizes());
        EXPECT_TRUE(plain.is_contiguous(torch::MemoryFormat::ChannelsLast));
        EXPECT_EQ(plain.scalar_type(), dtype);
        const double tolerance = dtype == torch::kFloat ? 1e-5 : 1e-2;
        EXPECT_LT(RelativeError(plain, expected), tolerance) << c.in << " " << dtype;
        // Negative values exist, so the ReLU has something to clip.
        EXPECT_LT(expected.min().item<double>(), -0.1);
        const torch::Tensor residual =
            torch::randn(expected.sizes()).to(dtype).contiguous(torch::MemoryFormat::ChannelsLast);
        const torch::Tensor expected_sum = Reference(*rounded, x, residual, true);
        torch::Tensor into = residual.clone();
        const torch::Tensor fused = dnnl.Forward(x, /*relu=*/true, into);
        EXPECT_EQ(fused.data_ptr(), into.data_ptr());  // written into the residual
        EXPECT_LT(RelativeError(fused, expected_sum), tolerance) << c.in << " " << dtype;
        EXPECT_EQ(fused.min().item<double>(), 0.0);
        EXPECT_LT(RelativeError(dnnl.Forward(x, /*relu=*/true), expected.relu()), tolerance);
      }
    }
  }
}

TEST(DnnlConvTest, Bf16WithFloatOutputKeepsTheAccumulationUnrounded) {
  // bf16 operands, float32 output and a float32 residual summed into it (the composed head's
  // chunks): as exact as float32 accumulation of the bf16 values, far below bf16 rounding.
  if (!CpuHasBf16()) GTEST_SKIP() << "this CPU has no bf16 arithmetic";
  torch::manual_seed(12);
  torch::NoGradGuard no_grad;
  const torch::Tensor weight = torch::randn({24, 32, 3, 3}).to(torch::kBFloat16);
  const torch::Tensor bias = torch::randn({24});
  DnnlConv dnnl(weight, bias, {1, 1}, {2, 2}, {2, 2}, torch::kBFloat16, torch::kFloat);
  const torch::Tensor x = torch::randn({2, 32, 11, 7})
                              .to(torch::kBFloat16)
                              .contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor expected = torch::conv2d(x.to(torch::kDouble), weight.to(torch::kDouble),
                                               bias.to(torch::kDouble), 1, 2, 2);
  const torch::Tensor first = dnnl.Forward(x, /*relu=*/false);
  EXPECT_EQ(first.scalar_type(), torch::kFloat);
  EXPECT_LT(RelativeError(first, expected), 1e-5);
  const torch::Tensor residual =
      torch::randn(expected.sizes()).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor summed = dnnl.Forward(x, /*relu=*/false, residual.clone());
  EXPECT_LT(RelativeError(summed, expected + residual.to(torch::kDouble)), 1e-5);
  EXPECT_THROW(dnnl.Forward(x, false, residual.to(torch::kBFloat16)), c10::Error);
}

TEST(DnnlConvTest, RefusesAWrongInputOrResidual) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(4, 6, 3).padding(1));
  DnnlConv dnnl(*conv, torch::kFloat);
  const torch::Tensor x = torch::randn({1, 4, 5, 7}).contiguous(torch::MemoryFormat::ChannelsLast);
  EXPECT_THROW(dnnl.Forward(torch::randn({1, 3, 5, 7}), false), c10::Error);
  EXPECT_THROW(dnnl.Forward(x.to(torch::kDouble), false), c10::Error);
  EXPECT_THROW(dnnl.Forward(x, true, torch::zeros({1, 6, 5, 6})), c10::Error);
  EXPECT_THROW(dnnl.Forward(x, true, torch::zeros({1, 6, 5, 7})), c10::Error);  // not channels-last
}

}  // namespace
}  // namespace ann
