#include "ann/quant/qops.h"

#include "gtest/gtest.h"

namespace ann {
namespace {

// The uint8 codes of float `y` under (scale, zero_point): the closed form of quantization, in
// float32 as LibTorch's quantizer computes it (y * (1 / scale), rounded half to even).
torch::Tensor Codes(const torch::Tensor& y, double scale, int64_t zero_point) {
  const float inverse = 1.0f / static_cast<float>(scale);
  return (y.to(torch::kFloat) * inverse).round().add(zero_point).clamp(0, 255).to(torch::kLong);
}

// Codes of `got` against `expected`: at most 1 apart, and equal on `equal` of them.
void ExpectCodesMatch(const torch::Tensor& got, const torch::Tensor& expected, double equal) {
  ASSERT_EQ(got.sizes(), expected.sizes());
  const torch::Tensor diff = (got.int_repr().to(torch::kLong) - expected).abs();
  EXPECT_LE(diff.max().item<int64_t>(), 1);
  EXPECT_GE((diff == 0).to(torch::kDouble).mean().item<double>(), equal);
}

class QopsTest : public ::testing::Test {};

TEST_F(QopsTest, QuantizeAndDequantizeEqualLibTorchsBitForBit) {
  // Odd sizes, both memory formats, an odd scale, values beyond both ends of the code range and
  // exact ties (k + 0.5 codes), which round half to even.
  torch::manual_seed(6);
  const double scale = 0.0371;
  const float inverse = 1.0f / static_cast<float>(scale);
  torch::Tensor x = torch::randn({2, 5, 7, 9}) * 4;
  x.view(-1).narrow(0, 0, 40).copy_((torch::arange(40, torch::kFloat) - 20 + 0.5f) /
                                    inverse);  // ties, up to float rounding
  x.view(-1)[41] = 1e6;
  x.view(-1)[42] = -1e6;
  for (const auto format : {torch::MemoryFormat::Contiguous, torch::MemoryFormat::ChannelsLast}) {
    const torch::Tensor xf = x.contiguous(format);
    for (int64_t zero_point : {0, 3, 128, 255}) {
      const torch::Tensor expected =
          torch::quantize_per_tensor(xf, scale, zero_point, torch::kQUInt8);
      const torch::Tensor got = QuantizeUint8(xf, scale, zero_point);
      EXPECT_TRUE(torch::equal(got.int_repr(), expected.int_repr())) << zero_point;
      EXPECT_EQ(got.q_scale(), scale);
      EXPECT_EQ(got.q_zero_point(), zero_point);
      EXPECT_EQ(got.is_contiguous(format), true);
      EXPECT_TRUE(torch::equal(Dequantize(expected), expected.dequantize())) << zero_point;
    }
  }
  // The ties really are ties: x * inverse lands on k + 0.5 for some of them.
  const torch::Tensor scaled = x.view(-1).narrow(0, 0, 40) * inverse;
  EXPECT_GT((scaled - scaled.floor() == 0.5).sum().item<int64_t>(), 10);
}

TEST_F(QopsTest, CatRequantizes) {
  torch::manual_seed(6);
  const torch::Tensor a =
      torch::quantize_per_tensor(torch::randn({1, 5, 7, 9}) * 2, 0.03, 120, torch::kQUInt8);
  const torch::Tensor c =
      torch::quantize_per_tensor(torch::randn({1, 3, 7, 9}), 0.01, 128, torch::kQUInt8);
  const torch::Tensor joined = QuantizedCat({a, c}, 1, 0.04, 100);
  ASSERT_EQ(joined.sizes(), (std::vector<int64_t>{1, 8, 7, 9}));
  ExpectCodesMatch(joined, Codes(torch::cat({a.dequantize(), c.dequantize()}, 1), 0.04, 100), 1.0);
}

}  // namespace
}  // namespace ann
