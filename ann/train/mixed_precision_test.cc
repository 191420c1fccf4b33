#include "ann/train/mixed_precision.h"

#include "ann/model/tiny_model.h"
#include "ann/util/cpu.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

// No dropout: every precision sees the same network.
EncoderDecoder EvalModel() {
  EncoderDecoder model = TinyModel(6);
  model->eval();
  return model;
}

TEST(MixedPrecisionTest, Fp32IsTheForwardAndFp64ItsFloat64Twin) {
  EncoderDecoder model = EvalModel();
  torch::manual_seed(7);
  const torch::Tensor images = torch::randn({2, 3, 45, 67});
  torch::NoGradGuard no_grad;
  const SegmentorOutputs fp32 = TrainingForward(model, images, Precision::kFp32);
  const SegmentorOutputs direct = model->forward(images);
  EXPECT_TRUE(torch::equal(fp32.decode, direct.decode));
  EXPECT_EQ(fp32.auxiliary.defined(), direct.auxiliary.defined());

  EncoderDecoder twin = EvalModel();
  twin->to(torch::kDouble);
  const SegmentorOutputs fp64 = TrainingForward(twin, images, Precision::kFp64);
  EXPECT_EQ(fp64.decode.scalar_type(), torch::kDouble);
  const double scale = fp64.decode.abs().max().item<double>();
  // float32 rounding only: far below the logits' size, and not zero.
  const double diff = (fp64.decode - fp32.decode.to(torch::kDouble)).abs().max().item<double>();
  EXPECT_LT(diff, 1e-4 * scale);
  EXPECT_GT(diff, 0);
}

TEST(MixedPrecisionTest, Bf16RunsUnderAutocastAndReturnsFloat32) {
  if (!CpuHasBf16()) GTEST_SKIP() << "this CPU has no bf16 arithmetic";
  EncoderDecoder model = EvalModel();
  torch::manual_seed(8);
  const torch::Tensor images = torch::randn({1, 3, 41, 53});
  torch::NoGradGuard no_grad;
  const SegmentorOutputs bf16 = TrainingForward(model, images, Precision::kBf16);
  const SegmentorOutputs fp32 = TrainingForward(model, images, Precision::kFp32);
  EXPECT_EQ(bf16.decode.scalar_type(), torch::kFloat);
  const double scale = fp32.decode.abs().max().item<double>();
  const double diff = (bf16.decode - fp32.decode).abs().max().item<double>();
  EXPECT_GT(diff, 0);  // really bfloat16
  EXPECT_LT(diff, 0.1 * scale);
}

}  // namespace
}  // namespace ann
