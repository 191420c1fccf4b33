#include "ann/quant/int8_executor.h"

#include "ann/inference/inference_form.h"
#include "ann/model/segmentor.h"
#include "ann/quant/int8_segmentor.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

struct Case {
  Variant variant;
  int depth;
  int64_t channels, project_channels;
};

EncoderDecoder MakeModel(const Case& c) {
  torch::manual_seed(c.depth * 5 + static_cast<int>(c.variant));
  ModelConfig config = DefaultModelConfig(c.variant);
  config.depth = c.depth;
  config.num_classes = 7;
  config.channels = c.channels;
  config.project_channels = c.project_channels;
  EncoderDecoder model(config);
  torch::NoGradGuard no_grad;
  for (const auto& m : model->modules()) {
    if (auto* bn = m->as<SyncBatchNormImpl>()) {
      bn->running_mean.uniform_(-0.3, 0.3);
      bn->running_var.uniform_(0.4, 1.6);
      bn->bias.uniform_(-0.2, 0.2);
    }
  }
  model->eval();
  return model;
}

class Int8ExecutorTest : public ::testing::TestWithParam<Case> {};

TEST_P(Int8ExecutorTest, EqualsTheModuleWalker) {
  const Case c = GetParam();
  torch::manual_seed(3);
  const torch::Tensor a = torch::randn({1, 3, 75, 53}), b = torch::randn({1, 3, 61, 90});
  Int8Segmentor old(MakeModel(c));
  Int8Executor executor(InferenceGraph(*MakeModel(c)));
  for (const torch::Tensor& x : {a, b}) {
    EXPECT_TRUE(torch::equal(old.Observe(x), executor.Observe(x)));
  }
  const Calibration& expected = old.calibration();
  const Calibration& got = executor.calibration();
  ASSERT_EQ(got.ranges.size(), expected.ranges.size());
  for (const auto& [name, range] : expected.ranges) {
    auto it = got.ranges.find(name);
    ASSERT_NE(it, got.ranges.end()) << name;
    EXPECT_EQ(it->second.min, range.min) << name;
    EXPECT_EQ(it->second.max, range.max) << name;
    EXPECT_EQ(it->second.low, range.low) << name;
    EXPECT_EQ(it->second.high, range.high) << name;
  }
  old.Quantize(expected, Observer::kMinMax);
  executor.Quantize(expected, Observer::kMinMax);
  for (const torch::Tensor& x : {a, b}) {
    const torch::Tensor y = executor.Predict(x), z = old.Predict(x);
    EXPECT_TRUE(torch::equal(y, z)) << (y - z).abs().max().item<double>();
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
