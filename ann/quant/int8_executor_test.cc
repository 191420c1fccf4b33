#include "ann/quant/int8_executor.h"

#include <cstdio>

#include "ann/inference/inference_form.h"
#include "ann/inference/test_models.h"
#include "ann/model/segmentor.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

using Case = ModelCase;

EncoderDecoder MakeModel(const Case& c) {
  return TrainedLookingModel(c, c.depth * 5 + static_cast<int>(c.variant));
}

class Int8ExecutorTest : public ::testing::TestWithParam<Case> {};

// Observe runs the float forward and names what int8 quantizes as calibration files always did;
// the int8 forward then mostly agrees with it. (Against the walker over the modules it replaced,
// ann 0.1's Int8Segmentor, calibrations and int8 logits were bit-identical: issue 32.)
TEST_P(Int8ExecutorTest, CalibratesAndRunsInInt8) {
  const Case c = GetParam();
  EncoderDecoder model = MakeModel(c);
  torch::manual_seed(3);
  const torch::Tensor a = torch::randn({1, 3, 75, 53}), b = torch::randn({1, 3, 61, 90});
  Int8Executor executor(InferenceGraph(*model));
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& x : {a, b}) {
    const torch::Tensor exact = model->Predict(x), observed = executor.Observe(x);
    EXPECT_LT((observed - exact).abs().max().item<double>(),
              1e-4 * exact.abs().max().item<double>());
  }
  const Calibration& calibration = executor.calibration();
  EXPECT_EQ(calibration.images, 2);
  const int blocks = c.depth == 18 ? 8 : 16, convs = c.depth == 18 ? 2 : 3;
  // mmseg's R-18 stem ends in 64 channels, which layer1 keeps: no downsample there.
  const int downsamples = c.depth == 18 && c.variant == Variant::kMmseg ? 3 : 4;
  // input, 3 stem convs, every block's convs (the last one named by its block), the downsamples,
  // AFNB's attention, the composed bottleneck, APNB's attention, concatenation and bottleneck.
  EXPECT_EQ(calibration.ranges.size(), 1u + 3 + blocks * convs + downsamples + 5);
  for (const char* name :
       {"input", "backbone.stem.0", "backbone.stem.2", "backbone.stem.4", "backbone.layer1.0.conv1",
        "backbone.layer1.0", "backbone.layer4.0.downsample", "decode_head.fusion.attention",
        "decode_head.bottleneck", "decode_head.context.attention", "decode_head.context.cat",
        "decode_head.context.bottleneck"}) {
    EXPECT_EQ(calibration.ranges.count(name), 1u) << name;
  }
  executor.Quantize(calibration, Observer::kMinMax);
  for (const torch::Tensor& x : {a, b}) {
    const torch::Tensor int8 = executor.Predict(x), exact = model->Predict(x);
    // Logits centred per pixel (an untrained model's are dominated by a per-class offset).
    const torch::Tensor d = int8 - int8.mean(1, true), e = exact - exact.mean(1, true);
    const double rel = ((d - e).norm() / e.norm()).item<double>();
    const double agree =
        int8.argmax(1).eq(exact.argmax(1)).to(torch::kDouble).mean().item<double>();
    std::printf("int8 against exact: relative error %.4f, labels agree on %.2f%%\n", rel,
                100 * agree);
    EXPECT_LT(rel, 0.03);
    EXPECT_GT(agree, 0.8);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, Int8ExecutorTest,
                         ::testing::Values(Case{Variant::kMmseg, 18, 128, 64},
                                           Case{Variant::kOriginal, 18, 128, 64},
                                           Case{Variant::kMmseg, 50, 512, 256}));

TEST(CalibrationNameTest, KeepsTheNamesOfEarlierFiles) {
  EXPECT_EQ(CalibrationName("input"), "input");
  EXPECT_EQ(CalibrationName("backbone.stem.0"), "backbone.stem.0");
  EXPECT_EQ(CalibrationName("backbone.stem.3"), "backbone.stem.2");
  EXPECT_EQ(CalibrationName("backbone.stem.6"), "backbone.stem.4");
  EXPECT_EQ(CalibrationName("backbone.layer2.0.downsample.0"), "backbone.layer2.0.downsample");
  EXPECT_EQ(CalibrationName("backbone.layer2.0.conv1"), "backbone.layer2.0.conv1");
  EXPECT_EQ(CalibrationName("backbone.layer2.0"), "backbone.layer2.0");
  EXPECT_EQ(CalibrationName("decode_head.fusion.stages.0"), "decode_head.fusion.attention");
  EXPECT_EQ(CalibrationName("decode_head.bottleneck.conv"), "decode_head.bottleneck");
  EXPECT_EQ(CalibrationName("decode_head.context.bottleneck.conv"),
            "decode_head.context.bottleneck");
}

}  // namespace
}  // namespace ann
