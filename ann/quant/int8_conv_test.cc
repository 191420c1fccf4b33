// Int8Conv against the convolution of the dequantized operands computed in float64 (plus the
// dequantized residual, ReLU), requantized by the closed form: on odd, asymmetric sizes, strided,
// dilated and padded, with and without a bias, with zero and non-zero zero points everywhere.
#include "ann/quant/int8_conv.h"

#include "ann/quant/calibration.h"
#include "ann/quant/qops.h"
#include "ann/util/cpu.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

struct Case {
  int64_t in, out, kernel, stride, padding, dilation;
  bool bias;
};

torch::Tensor Quantized(const torch::Tensor& x, QParams q) {
  return QuantizeUint8(x.contiguous(torch::MemoryFormat::ChannelsLast), q.scale, q.zero_point);
}

torch::Tensor Dequantized64(const torch::Tensor& q) {
  return (q.int_repr().to(torch::kDouble) - q.q_zero_point()) * q.q_scale();
}

// The codes of `y` (float64) quantized to `q`, as float64.
torch::Tensor Codes(const torch::Tensor& y, QParams q) {
  return (y / q.scale).round().add(q.zero_point).clamp(0, 255);
}

TEST(Int8ConvTest, MatchesDequantizedConvRequantized) {
  torch::manual_seed(5);
  torch::NoGradGuard no_grad;
  const std::vector<Case> cases = {{5, 7, 3, 1, 2, 2, true},
                                   {6, 9, 3, 2, 1, 1, false},
                                   {16, 24, 1, 1, 0, 1, true},
                                   {16, 8, 1, 2, 0, 1, false}};
  for (const Case& c : cases) {
    const torch::Tensor weight = torch::randn({c.out, c.in, c.kernel, c.kernel}) *
                                 torch::rand({c.out, 1, 1, 1}).add(0.2);  // scales per channel
    const torch::Tensor bias = c.bias ? torch::randn({c.out}) : torch::Tensor();
    const Int8Conv conv(weight, bias, {c.stride, c.stride}, {c.padding, c.padding},
                        {c.dilation, c.dilation});
    const torch::Tensor w =
        QuantizeWeightPerChannel(weight, Int8Conv::WeightMaxCode()).dequantize().to(torch::kDouble);
    for (int64_t batch : {1, 2}) {
      for (int64_t x_zero_point : {0, 37}) {
        const QParams xq{0.031, x_zero_point};
        const torch::Tensor x =
            Quantized(torch::rand({batch, c.in, 13, 10}) * 7.5 - 0.031 * x_zero_point, xq);
        torch::Tensor y =
            torch::conv2d(Dequantized64(x), w, c.bias ? bias.to(torch::kDouble) : torch::Tensor(),
                          c.stride, c.padding, c.dilation);
        const double span = (y.max() - y.min()).item<double>();
        // Negative values exist, so the ReLU and the zero points have something to do.
        ASSERT_LT(y.min().item<double>(), -0.1 * span);

        // float32 output.
        const torch::Tensor f = conv.ForwardFloat(x, /*relu=*/false);
        ASSERT_EQ(f.sizes(), y.sizes());
        EXPECT_TRUE(f.is_contiguous(torch::MemoryFormat::ChannelsLast));
        EXPECT_LT((f.to(torch::kDouble) - y).abs().max().item<double>(), 1e-5 * span);
        EXPECT_LT(
            (conv.ForwardFloat(x, true).to(torch::kDouble) - y.relu()).abs().max().item<double>(),
            1e-5 * span);
        // ... accumulated into a float32 residual (the composed head's chunks) ...
        const torch::Tensor f_residual =
            torch::randn(y.sizes()).contiguous(torch::MemoryFormat::ChannelsLast);
        torch::Tensor into = f_residual.clone();
        const torch::Tensor summed = conv.ForwardFloat(x, /*relu=*/false, into);
        EXPECT_EQ(summed.data_ptr(), into.data_ptr());
        EXPECT_LT((summed.to(torch::kDouble) - y - f_residual.to(torch::kDouble))
                      .abs()
                      .max()
                      .item<double>(),
                  1e-5 * span);
        // ... and in bfloat16 (the int8 forward's attention on bf16 CPUs).
        if (CpuHasBf16()) {
          const torch::Tensor b = conv.ForwardFloat(x, /*relu=*/true, {}, torch::kBFloat16);
          EXPECT_EQ(b.scalar_type(), torch::kBFloat16);
          EXPECT_LT((b.to(torch::kDouble) - y.relu()).abs().max().item<double>(), 5e-3 * span);
        }

        for (int64_t out_zero_point : {0, 119}) {
          for (bool relu : {false, true}) {
            if (relu && out_zero_point != 0) continue;  // ReLU outputs are calibrated at 0
            // Scaled so that both ends saturate.
            const double top = y.max().item<double>(), bottom = -y.min().item<double>();
            const QParams out{
                std::min(top / (270.0 - out_zero_point), bottom / (out_zero_point + 10.0)),
                out_zero_point};
            const torch::Tensor got = conv.Forward(x, relu, out);
            ASSERT_EQ(got.sizes(), y.sizes());
            EXPECT_EQ(got.q_scale(), out.scale);
            EXPECT_EQ(got.q_zero_point(), out.zero_point);
            const torch::Tensor expected = Codes(relu ? y.relu() : y, out);
            const torch::Tensor diff = (got.int_repr().to(torch::kDouble) - expected).abs();
            EXPECT_LE(diff.max().item<double>(), 1) << c.in << " relu " << relu;
            EXPECT_LT(diff.gt(0).to(torch::kDouble).mean().item<double>(), 0.02);
            // Both ends saturate somewhere, so clamping is exercised.
            if (!relu && out_zero_point == 119) {
              EXPECT_GT(expected.eq(255).sum().item<int>(), 0);
              EXPECT_GT(expected.eq(0).sum().item<int>(), 0);
            }
          }
          // Residual sum into the residual's memory, then ReLU.
          for (int64_t residual_zero_point : {0, 91}) {
            const QParams rq{0.047, residual_zero_point};
            torch::Tensor residual = Quantized(
                torch::randn(y.sizes(), torch::kDouble).mul(span / 4).to(torch::kFloat), rq);
            const torch::Tensor expected_value = (y + Dequantized64(residual)).relu();
            const QParams out{expected_value.max().item<double>() / 255, 0};
            const torch::Tensor expected = Codes(expected_value, out);
            void* memory = residual.data_ptr();
            const torch::Tensor got = conv.Forward(x, /*relu=*/true, out, residual);
            EXPECT_EQ(got.data_ptr(), memory);
            EXPECT_EQ(got.q_scale(), out.scale);
            const torch::Tensor diff = (got.int_repr().to(torch::kDouble) - expected).abs();
            EXPECT_LE(diff.max().item<double>(), 1) << c.in << " residual " << residual_zero_point;
            EXPECT_LT(diff.gt(0).to(torch::kDouble).mean().item<double>(), 0.02);
            EXPECT_GT(expected.eq(0).sum().item<int>(), 0);
          }
        }
      }
    }
  }
}

TEST(Int8ConvTest, RefusesWrongInputs) {
  const Int8Conv conv(torch::randn({4, 3, 1, 1}), torch::Tensor(), {1, 1}, {0, 0}, {1, 1});
  const torch::Tensor x = QuantizeUint8(torch::rand({1, 3, 5, 6}), 0.01, 0);
  EXPECT_THROW(conv.Forward(torch::rand({1, 3, 5, 6}), false, {0.1, 0}), c10::Error);
  EXPECT_THROW(conv.Forward(QuantizeUint8(torch::rand({1, 2, 5, 6}), 0.01, 0), false, {0.1, 0}),
               c10::Error);
  EXPECT_THROW(conv.Forward(x, false, {0.1, 0}, QuantizeUint8(torch::rand({1, 4, 5, 5}), 0.1, 0)),
               c10::Error);
}

}  // namespace
}  // namespace ann
