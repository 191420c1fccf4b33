#include "ann/inference/fuse_activation.h"

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

int CountKind(const Graph& g, NodeKind kind) {
  int count = 0;
  for (const GraphNode& n : g.nodes()) count += n.kind == kind;
  return count;
}

TEST(FuseActivationTest, ResidualSumsAndReluRunInsideTheConvolutions) {
  ModelConfig config;
  config.depth = 18;
  config.num_classes = 5;
  config.channels = 32;
  config.project_channels = 16;
  EncoderDecoder model = TrainedLookingModel(config, 8);
  Graph g = BuildModelGraph(*model);
  FoldBatchNorm(g);
  const int relus = CountKind(g, NodeKind::kRelu), adds = CountKind(g, NodeKind::kAdd);
  EXPECT_EQ(adds, 8);  // one per BasicBlock; one attention stage each: no stage sums
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 3, 53, 71});
  const torch::Tensor before = RunGraph(g, {x})[0];
  EXPECT_EQ(ApplyRewrite(g, FuseResidualRewrite()), adds);
  EXPECT_EQ(ApplyRewrite(g, FuseReluRewrite()), relus);
  EXPECT_EQ(CountKind(g, NodeKind::kRelu), 0);
  EXPECT_EQ(CountKind(g, NodeKind::kAdd), 0);
  int residuals = 0;
  for (const GraphNode& n : g.nodes()) {
    if (n.residual < 0) continue;
    ++residuals;
    // The block's last conv, named by its block, with the ReLU after the sum.
    EXPECT_TRUE(n.relu) << n.name;
    EXPECT_EQ(n.name.rfind("backbone.layer", 0), 0u) << n.name;
    EXPECT_EQ(n.name.find(".conv"), std::string::npos) << n.name;
  }
  EXPECT_EQ(residuals, adds);
  // conv, + residual, ReLU in one node: the same operations, the same numbers.
  EXPECT_TRUE(torch::equal(RunGraph(g, {x})[0], before));
}

TEST(FuseActivationTest, LeavesAReluBeforeASumAlone) {
  // relu(conv(x)) + y: the sum follows the ReLU, so neither may move into the conv.
  Graph g;
  const int x = g.AddInput("x");
  GraphNode conv;
  conv.kind = NodeKind::kConv;
  conv.name = "conv";
  conv.inputs = {x};
  conv.weight = torch::randn({3, 3, 1, 1});
  const int c = g.Add(conv);
  GraphNode relu;
  relu.kind = NodeKind::kRelu;
  relu.name = "relu";
  relu.inputs = {c};
  const int r = g.Add(relu);
  GraphNode add;
  add.kind = NodeKind::kAdd;
  add.name = "sum";
  add.inputs = {r, x};
  g.AddOutput(g.Add(add));
  EXPECT_EQ(ApplyRewrite(g, FuseResidualRewrite()), 0);
  EXPECT_EQ(ApplyRewrite(g, FuseReluRewrite()), 1);
  EXPECT_EQ(ApplyRewrite(g, FuseResidualRewrite()), 0);  // the conv now holds a ReLU
  ASSERT_EQ(g.size(), 3);
  EXPECT_EQ(g.node(2).kind, NodeKind::kAdd);
  torch::NoGradGuard no_grad;
  const torch::Tensor input = torch::randn({1, 3, 5, 7});
  EXPECT_TRUE(
      torch::equal(RunGraph(g, {input})[0], torch::conv2d(input, conv.weight).relu() + input));
}

}  // namespace
}  // namespace ann
