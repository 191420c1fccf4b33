#include "ann/model/resnet.h"

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

struct DepthCase {
  int depth;
  std::vector<int64_t> channels;
};

class ResNetShapesTest : public ::testing::TestWithParam<DepthCase> {};

TEST_P(ResNetShapesTest, OutputStrideEightAndWidths) {
  const DepthCase& c = GetParam();
  ResNetV1c net(ResNetV1cOptions(c.depth));
  net->eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out = net->forward(torch::randn({2, 3, 64, 96}));
  ASSERT_EQ(out.size(), 4u);
  // Stem /2, maxpool /2 -> C2 at /4; layer2 stride 2 -> /8; layers 3 and 4 dilated, stay /8.
  EXPECT_EQ(out[0].sizes(), torch::IntArrayRef({2, c.channels[0], 16, 24}));
  EXPECT_EQ(out[1].sizes(), torch::IntArrayRef({2, c.channels[1], 8, 12}));
  EXPECT_EQ(out[2].sizes(), torch::IntArrayRef({2, c.channels[2], 8, 12}));
  EXPECT_EQ(out[3].sizes(), torch::IntArrayRef({2, c.channels[3], 8, 12}));
  EXPECT_EQ(net->out_channels(), c.channels);
}

INSTANTIATE_TEST_SUITE_P(AllDepths, ResNetShapesTest,
                         ::testing::Values(DepthCase{18, {64, 128, 256, 512}},
                                           DepthCase{34, {64, 128, 256, 512}},
                                           DepthCase{50, {256, 512, 1024, 2048}},
                                           DepthCase{101, {256, 512, 1024, 2048}}));

TEST(ResNetTest, OddInputSizesFollowConvArithmetic) {
  ResNetV1c net(ResNetV1cOptions(18));
  net->eval();
  torch::NoGradGuard no_grad;
  // 67 -> stem s2: 34 -> maxpool: 17 -> layer2 s2: 9.
  auto out = net->forward(torch::randn({1, 3, 67, 67}));
  EXPECT_EQ(out[0].size(2), 17);
  EXPECT_EQ(out[3].size(2), 9);
}

TEST(ResNetTest, CeilModeStemForAuthorsVariant) {
  ResNetV1c net(ResNetV1cOptions(18).stem_channels(128).stem_ceil_mode(true));
  net->eval();
  torch::NoGradGuard no_grad;
  // 68 -> stem: 34 -> maxpool 3/2/1: floor mode 17, ceil mode 18.
  auto out = net->forward(torch::randn({1, 3, 68, 68}));
  EXPECT_EQ(out[0].size(2), 18);
  EXPECT_EQ(net->stem[0]->as<torch::nn::Conv2dImpl>()->weight.sizes(),
            torch::IntArrayRef({64, 3, 3, 3}));
  EXPECT_EQ(net->stem[6]->as<torch::nn::Conv2dImpl>()->weight.sizes(),
            torch::IntArrayRef({128, 64, 3, 3}));
}

TEST(ResNetTest, R50ParameterCountAndDilations) {
  ResNetV1c net(ResNetV1cOptions(50));
  int64_t params = 0;
  for (const auto& p : net->parameters()) params += p.numel();
  EXPECT_EQ(params, 23527264);  // mmseg's ResNetV1c-50 backbone (torchvision's ResNet-50 less its
                                // fc, plus the deep stem).
  auto named = net->named_parameters();
  EXPECT_TRUE(named.contains("stem.0.weight"));
  EXPECT_TRUE(named.contains("layer1.0.downsample.0.weight"));
  EXPECT_TRUE(named.contains("layer4.0.downsample.1.weight"));
  EXPECT_FALSE(named.contains("layer4.1.downsample.0.weight"));
  auto conv2 = [&](int layer, int block) {
    torch::nn::Sequential* layers[] = {&net->layer1, &net->layer2, &net->layer3, &net->layer4};
    return (*layers[layer - 1])[block]->as<BottleneckImpl>()->conv2;
  };
  EXPECT_EQ(conv2(2, 0)->options.stride()->at(0), 2);
  EXPECT_EQ(conv2(3, 0)->options.dilation()->at(0), 1);  // contract_dilation
  EXPECT_EQ(conv2(3, 1)->options.dilation()->at(0), 2);
  EXPECT_EQ(conv2(4, 0)->options.dilation()->at(0), 2);
  EXPECT_EQ(conv2(4, 2)->options.dilation()->at(0), 4);
  EXPECT_EQ(c10::get<torch::ExpandingArray<2>>(conv2(4, 2)->options.padding())->at(0), 4);
}

}  // namespace
}  // namespace ann
