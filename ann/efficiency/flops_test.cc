#include "ann/efficiency/flops.h"

#include <cstdio>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "ann/inference/model_graph.h"
#include "gtest/gtest.h"
#include "tests/testing.h"
#include "torch/csrc/autograd/profiler_legacy.h"
#include "torch/torch.h"

namespace ann {
namespace {

Shape CountNonLocal(const NonLocalBlockImpl& block, const Shape& in, FlopCounter& counter) {
  Graph g;
  g.AddOutput(AddNonLocalBlock(g, block, g.AddInput("x"), "nl"));
  return CountGraph(g, {in}, counter)[0];
}

TEST(FlopsTest, PrimitivesByHand) {
  // Conv 3→8, 3x3, stride 2, padding 1 on [2, 3, 17, 17]: out 9x9, 2·8·3·9·9·9 = 34,992.
  // A graph of that conv, dilated 3x3 8->8 (padding 2) after it: out 9x9, 8·8·9·81 = 46,656.
  Graph graph;
  GraphNode conv;
  conv.kind = NodeKind::kConv;
  conv.name = "conv";
  conv.inputs = {graph.AddInput("x")};
  conv.weight = torch::zeros({8, 3, 3, 3});
  conv.stride = {2, 2};
  conv.padding = {1, 1};
  const int first = graph.Add(conv);
  conv.name = "dilated";
  conv.inputs = {first};
  conv.weight = torch::zeros({8, 8, 3, 3});
  conv.stride = {1, 1};
  conv.padding = conv.dilation = {2, 2};
  graph.AddOutput(graph.Add(conv));
  FlopCounter counter;
  EXPECT_EQ(CountGraph(graph, {{2, 3, 17, 17}}, counter)[0], (Shape{2, 8, 9, 9}));
  EXPECT_EQ(counter.entries()[0], (std::pair<std::string, int64_t>("conv", 34992)));
  EXPECT_EQ(counter.entries()[1], (std::pair<std::string, int64_t>("dilated", 2 * 46656)));
  // Grouped: 8→8, groups 4, 3x3 at 10x10: 1·8·(8/4)·9·100 = 14,400.
  EXPECT_EQ(ConvFlops(1, 8, 8, 4, 3, 3, 10, 10), 14400);
  EXPECT_EQ(MatmulFlops({2, 5, 7}, 3), 210);
  EXPECT_EQ(BatchNormFlops(1000), 2000);
  EXPECT_EQ(AdaptivePoolFlops(1000), 1000);
  EXPECT_EQ(BilinearFlops(1000), 4000);
}

TEST(FlopsTest, NonLocalAt128x256IsAbout601Gflops) {
  NonLocalBlock block(2048, 256, 2048);
  FlopCounter counter;
  EXPECT_EQ(CountNonLocal(*block, {1, 2048, 128, 256}, counter), (Shape{1, 2048, 128, 256}));
  // N = 32768: three 1x1 convs 3·2048·256·N, key BN 2·256·N, two N x N matmuls 2·N·N·256.
  const int64_t n = 32768;
  EXPECT_EQ(counter.total(), 3 * 2048 * 256 * n + 2 * 256 * n + 2 * n * n * 256);
  EXPECT_NEAR(counter.total() / 1e9, 601.3, 0.05);
  FlopCounter small;
  CountNonLocal(*block, {1, 2048, 96, 96}, small);
  EXPECT_NEAR(small.total() / 1e9, 58.0, 0.05);
}

TEST(FlopsTest, ApnbSelfAttentionByHand) {
  SelfAttentionBlock block(SelfAttentionOptions(2048, 2048, 256, 2048).share_key_query(true));
  FlopCounter counter;
  Graph g;
  const int x = g.AddInput("x");
  g.AddOutput(AddSelfAttentionBlock(g, *block, x, x, "apnb"));
  CountGraph(g, {{1, 2048, 128, 256}}, counter);
  const int64_t n = 32768, s = 1 + 9 + 36 + 64;
  // key conv + BN, 4 poolings of the key map, value conv + 4 poolings, two N x S matmuls, out.
  const int64_t expected = 2048 * 256 * n + 2 * 256 * n + 4 * 256 * n + 2048 * 256 * n +
                           4 * 256 * n + 2 * n * 256 * s + 256 * 2048 * n;
  EXPECT_EQ(counter.total(), expected);
  EXPECT_EQ(counter.total(OpKind::kMatmul), 2 * n * 256 * s);
}

// Our count of a whole model against the independent Python count (hooks on the reference
// implementation while it runs).
void CheckAgainstPython(int depth) {
  ModelConfig config;
  config.depth = depth;
  EncoderDecoder model(config);
  FlopCounter counter;
  CountSegmentor(*model, {1, 3, 512, 1024}, false, counter);
  std::string out;
  ASSERT_EQ(testing::RunPython("count_flops.py",
                               absl::StrCat("--depth ", depth, " --height 512 --width 1024"), &out),
            0)
      << out;
  long long total, conv, matmul, bn, pool, upsample;
  ASSERT_EQ(
      std::sscanf(out.c_str(), "total %lld conv %lld matmul %lld bn %lld pool %lld upsample %lld",
                  &total, &conv, &matmul, &bn, &pool, &upsample),
      6)
      << out;
  EXPECT_EQ(counter.total(OpKind::kConv), conv);
  EXPECT_EQ(counter.total(OpKind::kMatmul), matmul);
  EXPECT_EQ(counter.total(OpKind::kBatchNorm), bn);
  EXPECT_EQ(counter.total(OpKind::kPool), pool);
  EXPECT_EQ(counter.total(OpKind::kUpsample), upsample);
  EXPECT_EQ(counter.total(), total);
  std::printf("R-%d at 512x1024: %.2f GFLOPs (python %.2f)\n", depth, counter.total() / 1e9,
              total / 1e9);
}

TEST(FlopsTest, R50MatchesIndependentSum) { CheckAgainstPython(50); }
TEST(FlopsTest, R101MatchesIndependentSum) { CheckAgainstPython(101); }

// LibTorch's own profiler counts 2 FLOPs per MAC for conv2d and matrix products.
TEST(FlopsTest, AgreesWithLibTorchProfiler) {
  torch::manual_seed(0);
  ModelConfig config;
  config.depth = 18;
  config.num_classes = 7;
  config.channels = 32;
  config.project_channels = 16;
  EncoderDecoder model(config);
  model->eval();
  FlopCounter counter;
  CountSegmentor(*model, {1, 3, 96, 128}, false, counter);
  NonLocalBlock block(64, 16, 64);
  block->eval();
  CountNonLocal(*block, {1, 64, 12, 16}, counter);
  namespace prof = torch::autograd::profiler;
  prof::enableProfilerLegacy(prof::ProfilerConfig(prof::ProfilerState::CPU,
                                                  /*report_input_shapes=*/true,
                                                  /*profile_memory=*/false, /*with_stack=*/false,
                                                  /*with_flops=*/true));
  {
    torch::NoGradGuard no_grad;
    model->Predict(torch::randn({1, 3, 96, 128}));
    block(torch::randn({1, 64, 12, 16}));
  }
  prof::thread_event_lists events = prof::disableProfilerLegacy();
  int64_t conv = 0, matmul = 0;
  for (auto& list : events) {
    for (auto& e : list) {
      const std::string name = e.name();
      if (name == "aten::conv2d") conv += e.flops();
      if (name == "aten::mm" || name == "aten::bmm" || name == "aten::addmm") matmul += e.flops();
    }
  }
  EXPECT_GT(conv, 0);
  EXPECT_EQ(conv, 2 * counter.total(OpKind::kConv));
  EXPECT_EQ(matmul, 2 * counter.total(OpKind::kMatmul));
}

}  // namespace
}  // namespace ann
