#include "ann/inference/model_graph.h"

#include <string>

#include "ann/inference/graph.h"
#include "ann/inference/test_models.h"
#include "ann/inference/torch_executor.h"
#include "ann/model/segmentor.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

EncoderDecoder MakeModel(Variant variant, int depth, bool align_corners) {
  ModelConfig config = DefaultModelConfig(variant);
  config.depth = depth;
  config.num_classes = 7;
  config.channels = 64;
  config.project_channels = 32;
  config.align_corners = align_corners;
  return TrainedLookingModel(config, depth + static_cast<int>(variant));
}

// An asymmetric, odd-sized batch: a ramp plus noise, different per image.
torch::Tensor Images(int64_t n, int64_t h, int64_t w) {
  torch::manual_seed(11);
  const torch::Tensor ramp = torch::linspace(-1, 2, w).view({1, 1, 1, w}) *
                             torch::linspace(0.5, 1.5, h).view({1, 1, h, 1});
  return ramp + torch::randn({n, 3, h, w});
}

int CountKind(const Graph& g, NodeKind kind) {
  int count = 0;
  for (const GraphNode& n : g.nodes()) count += n.kind == kind;
  return count;
}

struct Case {
  Variant variant;
  int depth;
  bool align_corners;
};

class ModelGraphTest : public ::testing::TestWithParam<Case> {};

// The graph run by LibTorch's operators gives Predict's logits bit for bit: the same operators in
// the same order, nothing left out.
TEST_P(ModelGraphTest, RunsAsPredictBitForBit) {
  const Case c = GetParam();
  EncoderDecoder model = MakeModel(c.variant, c.depth, c.align_corners);
  const Graph graph = BuildModelGraph(*model);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = Images(2, 67, 45);
  const torch::Tensor expected = model->Predict(x);
  const std::vector<torch::Tensor> out = RunGraph(graph, {x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].sizes(), expected.sizes());
  EXPECT_TRUE(torch::equal(out[0], expected))
      << "max |diff| " << (out[0] - expected).abs().max().item<double>();
}

INSTANTIATE_TEST_SUITE_P(Variants, ModelGraphTest,
                         ::testing::Values(Case{Variant::kMmseg, 18, false},
                                           Case{Variant::kOriginal, 18, true},
                                           Case{Variant::kMmseg, 50, false},
                                           Case{Variant::kOriginal, 50, true}));

TEST(ModelGraphTest, NamesNodesByTheirModulesAndSharesTheWeights) {
  EncoderDecoder model = MakeModel(Variant::kMmseg, 50, false);
  const Graph g = BuildModelGraph(*model);
  // 16 bottlenecks of 3 convs, 4 downsamples, 3 stem convs; AFNB: key, query, value, out,
  // bottleneck; the head's bottleneck; APNB (shared key / query): key, value, out, bottleneck;
  // the classifier.
  EXPECT_EQ(CountKind(g, NodeKind::kConv), 16 * 3 + 4 + 3 + 5 + 1 + 4 + 1);
  EXPECT_EQ(CountKind(g, NodeKind::kAttention), 2);
  EXPECT_EQ(CountKind(g, NodeKind::kMaxPool), 1);
  const std::string text = DescribeGraph(g);
  for (const char* name :
       {"conv backbone.stem.0 ", "batch_norm backbone.layer3.5.bn2 ",
        "conv backbone.layer2.0.downsample.0 ", "add backbone.layer4.2 ",
        "conv decode_head.fusion.stages.0.query_project.conv ",
        "attention decode_head.context.stages.0 ", "concat decode_head.context.cat ",
        "relu decode_head.context.bottleneck.activate ", "conv decode_head.conv_seg ",
        "resize resize "}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
  EXPECT_EQ(text.find("auxiliary_head"), std::string::npos);
  EXPECT_EQ(text.find("context.stages.0.query_project"), std::string::npos);  // shared
  // Weights are the model's own tensors.
  int conv_seg = -1;
  for (int i = 0; i < g.size(); ++i) {
    if (g.node(i).name == "decode_head.conv_seg") conv_seg = i;
  }
  ASSERT_GE(conv_seg, 0);
  EXPECT_TRUE(g.node(conv_seg).weight.is_same(model->decode_head->conv_seg->weight));
}

TEST(ModelGraphTest, AuxiliaryHeadIsASecondOutputAtFeatureResolution) {
  EncoderDecoder model = MakeModel(Variant::kMmseg, 18, false);
  const Graph g = BuildModelGraph(*model, /*auxiliary_head=*/true);
  ASSERT_EQ(g.outputs().size(), 2u);
  const std::vector<Shape> shapes = g.InferShapes({{1, 3, 67, 45}});
  EXPECT_EQ(shapes[g.outputs()[0]], (Shape{1, 7, 67, 45}));
  EXPECT_EQ(shapes[g.outputs()[1]], (Shape{1, 7, 9, 6}));
  torch::NoGradGuard no_grad;
  const torch::Tensor x = Images(1, 67, 45);
  const std::vector<torch::Tensor> out = RunGraph(g, {x});
  std::vector<torch::Tensor> features = model->backbone->forward(x);
  EXPECT_TRUE(torch::equal(out[1], model->auxiliary_head->forward(features)));
}

TEST(ModelGraphTest, BlockGraphsRunAsTheModules) {
  torch::manual_seed(3);
  SelfAttentionBlock afnb(SelfAttentionOptions(16, 24, 8, 24).pool_scales({1, 3}));
  afnb->eval();
  Graph g;
  const int high = g.AddInput("high"), low = g.AddInput("low");
  g.AddOutput(AddSelfAttentionBlock(g, *afnb, high, low, "afnb"));
  torch::NoGradGuard no_grad;
  const torch::Tensor h = torch::randn({1, 24, 11, 7}), l = torch::randn({1, 16, 11, 7});
  EXPECT_TRUE(torch::equal(RunGraph(g, {h, l})[0], afnb(h, l)));
  // A non-local block: every position is a key (the similarity scaled after the product, not
  // before as NonLocalBlock saves memory: equal up to rounding).
  NonLocalBlock non_local(24, 8, 24);
  non_local->eval();
  Graph n;
  n.AddOutput(AddNonLocalBlock(n, *non_local, n.AddInput("x"), "nonlocal"));
  EXPECT_TRUE(torch::allclose(RunGraph(n, {h})[0], non_local(h), 1e-5, 1e-6));
}

}  // namespace
}  // namespace ann
