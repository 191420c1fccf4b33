#include "ann/inference/fold_batch_norm.h"

#include "ann/inference/graph.h"
#include "ann/inference/model_graph.h"
#include "ann/inference/test_models.h"
#include "ann/inference/torch_executor.h"
#include "ann/model/conv_module.h"
#include "ann/model/segmentor.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

TEST(FoldBatchNormTest, FoldsAConvModuleAsTheFormulaSays) {
  torch::manual_seed(5);
  ConvModule m(ConvModuleOptions(5, 6, 3).padding(2).bias(true));
  {
    torch::NoGradGuard no_grad;
    m->bn->running_mean.uniform_(-1, 1);
    m->bn->running_var.uniform_(0.2, 3);
    m->bn->weight.uniform_(-2, 2);
    m->bn->bias.uniform_(-1, 1);
  }
  m->eval();
  const torch::Tensor weight_before = m->conv->weight.clone();
  Graph g;
  g.AddOutput(AddConvModule(g, *m, g.AddInput("x"), "m"));
  ASSERT_EQ(g.size(), 4);  // input, conv, bn, relu
  EXPECT_EQ(FoldBatchNorm(g), 1);
  ASSERT_EQ(g.size(), 3);
  const GraphNode& conv = g.node(1);
  EXPECT_EQ(conv.kind, NodeKind::kConv);
  EXPECT_EQ(g.node(2).inputs, (std::vector<int>{1}));
  // Independently: w * gamma / sqrt(var + eps), beta + (b - mean) * gamma / sqrt(var + eps), in
  // float64, rounded once.
  const auto& bn = *m->bn;
  const torch::Tensor scale =
      bn.weight.to(torch::kDouble) / (bn.running_var.to(torch::kDouble) + bn.options.eps()).sqrt();
  EXPECT_TRUE(torch::equal(
      conv.weight,
      (m->conv->weight.to(torch::kDouble) * scale.view({-1, 1, 1, 1})).to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(
      conv.bias, (bn.bias.to(torch::kDouble) +
                  (m->conv->bias.to(torch::kDouble) - bn.running_mean.to(torch::kDouble)) * scale)
                     .to(torch::kFloat)));
  // The module is untouched; the graph computes what it computes, up to rounding.
  EXPECT_TRUE(torch::equal(m->conv->weight, weight_before));
  EXPECT_TRUE(m->bn);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 5, 9, 13});
  EXPECT_TRUE(torch::allclose(RunGraph(g, {x})[0], m(x), 1e-5, 1e-5));
}

TEST(FoldBatchNormTest, FoldsEveryBatchNormOfAModelAsTheInferenceFormDoes) {
  ModelConfig config;
  config.depth = 18;
  config.num_classes = 5;
  config.channels = 32;
  config.project_channels = 16;
  EncoderDecoder model = TrainedLookingModel(config, 2);
  Graph g = BuildModelGraph(*model);
  int batch_norms = 0;
  for (const GraphNode& n : g.nodes()) batch_norms += n.kind == NodeKind::kBatchNorm;
  // stem 3, 8 blocks of 2 and 3 downsamples, AFNB 3 (key, query, bottleneck), the head's
  // bottleneck, APNB 2 (shared key / query, bottleneck).
  EXPECT_EQ(batch_norms, 3 + 16 + 3 + 3 + 1 + 2);
  EXPECT_EQ(FoldBatchNorm(g), batch_norms);
  for (const GraphNode& n : g.nodes()) EXPECT_NE(n.kind, NodeKind::kBatchNorm) << n.name;
  torch::NoGradGuard no_grad;
  torch::manual_seed(4);
  const torch::Tensor x = torch::randn({1, 3, 61, 83});
  const torch::Tensor folded = RunGraph(g, {x})[0];
  const torch::Tensor expected = model->Predict(x);
  EXPECT_TRUE(torch::allclose(folded, expected, 1e-4, 1e-4))
      << (folded - expected).abs().max().item<double>();
}

}  // namespace
}  // namespace ann
