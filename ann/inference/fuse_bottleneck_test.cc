#include "ann/inference/fuse_bottleneck.h"

#include "ann/inference/compose_bottleneck.h"
#include "ann/inference/fold_batch_norm.h"
#include "ann/inference/graph.h"
#include "ann/inference/model_graph.h"
#include "ann/inference/test_models.h"
#include "ann/inference/torch_executor.h"
#include "ann/model/segmentor.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

EncoderDecoder Model(int64_t channels, int64_t project_channels, bool original) {
  ModelConfig config = DefaultModelConfig(original ? Variant::kOriginal : Variant::kMmseg);
  config.depth = 18;
  config.num_classes = 6;
  config.channels = channels;
  config.project_channels = project_channels;
  return TrainedLookingModel(config, 12);
}

const GraphNode* Find(const Graph& g, const std::string& name) {
  for (const GraphNode& n : g.nodes()) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

torch::Tensor Image(int64_t h, int64_t w) {
  torch::manual_seed(h * w);
  return torch::randn({1, 3, h, w}) + torch::linspace(-1, 1, w).view({1, 1, 1, w});
}

void ExpectClose(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_TRUE(torch::allclose(a, b, 1e-4, 1e-4)) << (a - b).abs().max().item<double>();
}

TEST(FuseBottleneckTest, FusesBothBlocksAsTheFormulaSays) {
  for (bool original : {false, true}) {
    EncoderDecoder model = Model(64, 32, original);
    Graph g = BuildModelGraph(*model);
    FoldBatchNorm(g);
    const Graph unfused = g;
    EXPECT_EQ(FuseBottlenecks(g), 2);
    const GraphNode* afnb = Find(g, "decode_head.fusion.bottleneck.conv");
    ASSERT_NE(afnb, nullptr);
    ASSERT_EQ(afnb->inputs.size(), 2u);
    EXPECT_EQ(g.node(afnb->inputs[0]).kind, NodeKind::kAttention);
    EXPECT_EQ(g.node(afnb->inputs[1]).name, "backbone.layer4.1");  // C5's ReLU
    EXPECT_EQ(Find(g, "decode_head.fusion.stages.0.out_project"), nullptr);
    EXPECT_EQ(Find(g, "decode_head.fusion.cat"), nullptr);
    // Independently, in float64: [W_c W_o | W_f] and W_c b_o + b.
    const GraphNode& out = *Find(unfused, "decode_head.fusion.stages.0.out_project");
    const GraphNode& bottleneck = *Find(unfused, "decode_head.fusion.bottleneck.conv");
    const torch::Tensor w = bottleneck.weight.to(torch::kDouble).flatten(1);
    const int64_t context = out.weight.size(0);
    const torch::Tensor w_c = w.narrow(1, 0, context);
    const torch::Tensor expected_weight =
        torch::cat({w_c.mm(out.weight.to(torch::kDouble).flatten(1)),
                    w.narrow(1, context, w.size(1) - context)},
                   1);
    EXPECT_TRUE(torch::equal(afnb->weight.flatten(1), expected_weight));
    EXPECT_TRUE(torch::equal(
        afnb->bias, w_c.mv(out.bias.to(torch::kDouble)) + bottleneck.bias.to(torch::kDouble)));
    torch::NoGradGuard no_grad;
    const torch::Tensor x = Image(59, 77);
    ExpectClose(RunGraph(g, {x})[0], RunGraph(unfused, {x})[0]);
  }
}

TEST(FuseBottleneckTest, LeavesABlockWhoseAttentionIsNotNarrower) {
  // APNB: 64 channels of attention for a 64-channel context: fusing would add work.
  EncoderDecoder model = Model(64, 64, false);
  Graph g = BuildModelGraph(*model);
  FoldBatchNorm(g);
  EXPECT_EQ(FuseBottlenecks(g), 1);
  EXPECT_NE(Find(g, "decode_head.context.cat"), nullptr);
  EXPECT_EQ(Find(g, "decode_head.fusion.cat"), nullptr);
}

TEST(ComposeBottleneckTest, ComposesAfnbIntoTheHeadsBottleneckAtAnySize) {
  for (bool original : {false, true}) {
    EncoderDecoder model = Model(64, 32, original);
    Graph g = BuildModelGraph(*model);
    FoldBatchNorm(g);
    FuseBottlenecks(g);
    const Graph fused = g;
    EXPECT_EQ(ComposeBottlenecks(g), 1);
    const GraphNode* head = Find(g, "decode_head.bottleneck.conv");
    ASSERT_NE(head, nullptr);
    ASSERT_NE(head->border, nullptr);
    EXPECT_EQ(head->inputs.size(), 2u);
    EXPECT_EQ(head->weight.sizes(), (std::vector<int64_t>{64, 32 + 512, 3, 3}));
    EXPECT_EQ(Find(g, "decode_head.fusion.bottleneck.conv"), nullptr);
    torch::NoGradGuard no_grad;
    // Odd sizes, and one whose features (2x3) are smaller than the border itself.
    for (const auto& [h, w] : {std::pair<int64_t, int64_t>{61, 45}, {13, 21}}) {
      const torch::Tensor x = Image(h, w);
      ExpectClose(RunGraph(g, {x})[0], RunGraph(fused, {x})[0]);
    }
  }
}

// Against the model as loaded in float64, on odd sizes down to feature maps smaller than the
// 3x3 border (1x1 and 2x5 at stride 8): the BN statistics make AFNB's bias non-trivial, so a bias
// map without its border corrections would be off by O(1) on the first and last rows and
// columns.
TEST(ComposeBottleneckTest, KeepsTheBorderBiasDownTo1x1Features) {
  EncoderDecoder model = Model(64, 32, false);
  Graph g = BuildModelGraph(*model);
  FoldBatchNorm(g);
  FuseBottlenecks(g);
  ASSERT_EQ(ComposeBottlenecks(g), 1);
  EncoderDecoder exact = Model(64, 32, false);
  exact->to(torch::kDouble);
  const Graph literal = BuildModelGraph(*exact);
  torch::NoGradGuard no_grad;
  for (const auto& [h, w] : {std::pair<int64_t, int64_t>{61, 45}, {13, 21}, {8, 8}, {16, 40}}) {
    const torch::Tensor x = Image(h, w);
    const torch::Tensor expected = RunGraph(literal, {x})[0];
    const torch::Tensor got = RunGraph(g, {x})[0];
    const double rel = ((got - expected).abs().max() / expected.abs().max()).item<double>();
    EXPECT_LT(rel, 1e-5) << h << "x" << w;
  }
}

// R-18's default head (512-wide C5, 512 channels): the composed 3x3 conv over 768 channels would
// cost more than the 1x1 (768 -> 512) and 3x3 (512 -> 512) it replaces; R-50's saves a quarter.
TEST(ComposeBottleneckTest, ComposesOnlyWhereThatSavesWork) {
  for (int depth : {18, 50}) {
    ModelConfig config = DefaultModelConfig(Variant::kMmseg);
    config.depth = depth;
    config.num_classes = 3;
    EncoderDecoder model(config);
    Graph g = BuildModelGraph(*model);
    FoldBatchNorm(g);
    FuseBottlenecks(g);
    EXPECT_EQ(ComposeBottlenecks(g), depth == 50 ? 1 : 0) << depth;
  }
}

}  // namespace
}  // namespace ann
