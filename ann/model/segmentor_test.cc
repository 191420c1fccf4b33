#include "ann/model/segmentor.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

ModelConfig Config(int depth, int64_t classes = 19) {
  ModelConfig config;
  config.depth = depth;
  config.num_classes = classes;
  return config;
}

int64_t KeyCount(const torch::nn::Module& m) {
  return static_cast<int64_t>(m.named_parameters().size() + m.named_buffers().size());
}

std::map<std::string, std::vector<int64_t>> Shapes(const torch::nn::Module& m) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& p : m.named_parameters()) shapes[p.key()] = p.value().sizes().vec();
  for (const auto& b : m.named_buffers()) shapes[b.key()] = b.value().sizes().vec();
  return shapes;
}

TEST(SegmentorTest, R50KeysAndParametersMatchMmseg) {
  EncoderDecoder model(Config(50));
  EXPECT_EQ(KeyCount(*model), 390);
  EXPECT_EQ(CountParameters(*model), 46228614);
  EXPECT_EQ(CountParameters(*model->backbone), 23527264);
  EXPECT_EQ(CountParameters(*model->decode_head), 20336659);
  EXPECT_EQ(CountParameters(*model->auxiliary_head), 2364691);
}

TEST(SegmentorTest, R101KeysAndParametersMatchMmseg) {
  EncoderDecoder model(Config(101));
  EXPECT_EQ(KeyCount(*model), 696);
  EXPECT_EQ(CountParameters(*model), 65220742);
}

TEST(SegmentorTest, CheckpointKeyShapesFromSpec) {
  EncoderDecoder model(Config(50));
  auto shapes = Shapes(*model);
  const std::map<std::string, std::vector<int64_t>> expected = {
      {"backbone.stem.0.weight", {32, 3, 3, 3}},
      {"backbone.stem.1.running_var", {32}},
      {"backbone.stem.3.weight", {32, 32, 3, 3}},
      {"backbone.stem.6.weight", {64, 32, 3, 3}},
      {"backbone.stem.7.num_batches_tracked", {}},
      {"backbone.layer1.0.downsample.0.weight", {256, 64, 1, 1}},
      {"backbone.layer3.5.conv2.weight", {256, 256, 3, 3}},
      {"backbone.layer4.2.bn3.weight", {2048}},
      {"decode_head.fusion.stages.0.key_project.conv.weight", {256, 1024, 1, 1}},
      {"decode_head.fusion.stages.0.key_project.bn.running_mean", {256}},
      {"decode_head.fusion.stages.0.query_project.conv.weight", {256, 2048, 1, 1}},
      {"decode_head.fusion.stages.0.value_project.weight", {256, 1024, 1, 1}},
      {"decode_head.fusion.stages.0.value_project.bias", {256}},
      {"decode_head.fusion.stages.0.out_project.weight", {2048, 256, 1, 1}},
      {"decode_head.fusion.stages.0.out_project.bias", {2048}},
      {"decode_head.fusion.bottleneck.conv.weight", {2048, 4096, 1, 1}},
      {"decode_head.fusion.bottleneck.bn.weight", {2048}},
      {"decode_head.bottleneck.conv.weight", {512, 2048, 3, 3}},
      {"decode_head.bottleneck.bn.bias", {512}},
      {"decode_head.context.stages.0.key_project.conv.weight", {256, 512, 1, 1}},
      {"decode_head.context.stages.0.query_project.conv.weight", {256, 512, 1, 1}},
      {"decode_head.context.stages.0.query_project.bn.num_batches_tracked", {}},
      {"decode_head.context.stages.0.value_project.weight", {256, 512, 1, 1}},
      {"decode_head.context.stages.0.out_project.weight", {512, 256, 1, 1}},
      {"decode_head.context.bottleneck.conv.weight", {512, 1024, 1, 1}},
      {"decode_head.conv_seg.weight", {19, 512, 1, 1}},
      {"decode_head.conv_seg.bias", {19}},
      {"auxiliary_head.convs.0.conv.weight", {256, 1024, 3, 3}},
      {"auxiliary_head.convs.0.bn.weight", {256}},
      {"auxiliary_head.conv_seg.weight", {19, 256, 1, 1}},
  };
  for (const auto& [key, shape] : expected) {
    ASSERT_TRUE(shapes.count(key)) << "missing " << key;
    EXPECT_EQ(shapes[key], shape) << key;
  }
  // mmseg's head convs followed by BN have no bias.
  EXPECT_FALSE(shapes.count("decode_head.bottleneck.conv.bias"));
  EXPECT_FALSE(shapes.count("decode_head.fusion.stages.0.key_project.conv.bias"));
}

TEST(SegmentorTest, OriginalVariantHasBiasesAndWideStem) {
  EncoderDecoder model(DefaultModelConfig(Variant::kOriginal));
  auto shapes = Shapes(*model);
  EXPECT_EQ(shapes["backbone.stem.6.weight"], (std::vector<int64_t>{128, 64, 3, 3}));
  EXPECT_EQ(shapes["backbone.layer1.0.conv1.weight"], (std::vector<int64_t>{64, 128, 1, 1}));
  EXPECT_TRUE(shapes.count("decode_head.bottleneck.conv.bias"));
  EXPECT_TRUE(shapes.count("decode_head.fusion.stages.0.key_project.conv.bias"));
  EXPECT_TRUE(shapes.count("decode_head.context.bottleneck.conv.bias"));
  EXPECT_EQ(shapes["auxiliary_head.convs.0.conv.weight"], (std::vector<int64_t>{512, 1024, 3, 3}));
  EXPECT_EQ(shapes["auxiliary_head.conv_seg.weight"], (std::vector<int64_t>{19, 512, 1, 1}));
}

class SegmentorDepthTest : public ::testing::TestWithParam<int> {};

TEST_P(SegmentorDepthTest, StageShapesAndWholeImageOutput) {
  const int depth = GetParam();
  ModelConfig config = Config(depth, 7);
  EncoderDecoder model(config);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({2, 3, 67, 93});
  model->train();
  SegmentorOutputs train_out = model->forward(x);
  // 67x93 -> /8 with the stride arithmetic of the stem, pool and layer2: 9x12.
  EXPECT_EQ(train_out.decode.sizes(), torch::IntArrayRef({2, 7, 9, 12}));
  EXPECT_EQ(train_out.auxiliary.sizes(), torch::IntArrayRef({2, 7, 9, 12}));
  model->eval();
  std::vector<torch::Tensor> features = model->backbone->forward(x);
  torch::Tensor fused = model->decode_head->fusion->forward(features[2], features[3]);
  EXPECT_EQ(fused.sizes(), torch::IntArrayRef({2, config.c5_channels(), 9, 12}));
  torch::Tensor narrowed = model->decode_head->bottleneck->forward(fused);
  EXPECT_EQ(narrowed.sizes(), torch::IntArrayRef({2, 512, 9, 12}));
  EXPECT_EQ(model->decode_head->context->forward(narrowed).sizes(),
            torch::IntArrayRef({2, 512, 9, 12}));
  EXPECT_FALSE(model->forward(x).auxiliary.defined());  // eval: decode head only
  EXPECT_EQ(model->Predict(x).sizes(), torch::IntArrayRef({2, 7, 67, 93}));
}

INSTANTIATE_TEST_SUITE_P(AllDepths, SegmentorDepthTest, ::testing::Values(18, 34, 50, 101));

TEST(SegmentorTest, ZeroOutProjectionMakesAttentionAPassThrough) {
  ModelConfig config = Config(18, 5);
  EncoderDecoder model(config);
  model->InitWeights();
  model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor y = torch::randn({1, 512, 6, 7});
  auto block = model->decode_head->context->stages[0]->as<SelfAttentionBlockImpl>();
  EXPECT_EQ(block->forward(y, y).abs().max().item<float>(), 0.0f);
}

}  // namespace
}  // namespace ann
