// FusedBottleneck: AFNB and APNB in training (the fused weights built in the forward) give the
// output and the gradients of every parameter that the literal bottleneck(cat(sum of stages,
// feats)) gives, in float64, with one stage and with two (the sum); and in eval the literal path
// runs, bit for bit (the inference graph fuses on its own: ann/inference/fuse_bottleneck_test).
#include "ann/model/ann_head.h"

#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

void Randomize(torch::nn::Module& module, int64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (torch::Tensor& p : module.parameters()) p.normal_(0.1, 0.3);
}

// The literal bottleneck(cat(sum_i stage_i(query, key), feats)).
torch::Tensor Literal(torch::nn::ModuleList& stages, ConvModuleImpl& bottleneck,
                      const torch::Tensor& query, const torch::Tensor& key,
                      const torch::Tensor& feats) {
  torch::Tensor context;
  for (const auto& stage : *stages) {
    const torch::Tensor prior = stage->as<SelfAttentionBlockImpl>()->forward(query, key);
    context = context.defined() ? context + prior : prior;
  }
  return bottleneck.forward(torch::cat({context, feats}, 1));
}

struct Result {
  torch::Tensor out;
  std::vector<torch::Tensor> grads;
};

Result RunAndDifferentiate(torch::nn::Module& module, const std::function<torch::Tensor()>& forward,
                           const torch::Tensor& upstream) {
  for (torch::Tensor& p : module.parameters()) p.mutable_grad() = torch::Tensor();
  Result r;
  r.out = forward();
  (r.out * upstream).sum().backward();
  for (const torch::Tensor& p : module.parameters()) {
    r.grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  }
  return r;
}

void ExpectSame(const Result& fused, const Result& literal, const std::string& what) {
  ASSERT_EQ(fused.out.sizes(), literal.out.sizes());
  EXPECT_LE((fused.out - literal.out).abs().max().item<double>(), 1e-10) << what;
  // The gradients do not vanish: the comparison means something.
  EXPECT_GT(literal.out.abs().max().item<double>(), 1e-3) << what;
  ASSERT_EQ(fused.grads.size(), literal.grads.size());
  for (size_t i = 0; i < fused.grads.size(); ++i) {
    const double scale = literal.grads[i].abs().max().item<double>();
    EXPECT_LE((fused.grads[i] - literal.grads[i]).abs().max().item<double>(), 1e-9 * (1 + scale))
        << what << ": parameter " << i;
  }
}

class FusedBottleneckTest : public ::testing::TestWithParam<int> {};

TEST_P(FusedBottleneckTest, AfnbTrainingMatchesTheLiteralBottleneck) {
  const int stages = GetParam();
  AFNB afnb(/*low=*/24, /*high=*/40, /*channels=*/8, /*out=*/40, std::vector<int64_t>{1, 3},
            /*conv_bias=*/true, 0.0);
  for (int i = 1; i < stages; ++i) {
    afnb->stages->push_back(
        SelfAttentionBlock(SelfAttentionOptions(24, 40, 8, 40).pool_scales({1, 2})));
  }
  afnb->to(torch::kDouble);
  Randomize(*afnb, stages);
  afnb->train();
  ASSERT_TRUE(FusedBottleneck::Pays(afnb->stages));
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const torch::Tensor low = torch::randn({2, 24, 7, 9}, opts);  // odd, asymmetric
  const torch::Tensor high = torch::randn({2, 40, 7, 9}, opts);
  const torch::Tensor upstream = torch::randn({2, 40, 7, 9}, opts);
  const Result fused = RunAndDifferentiate(
      *afnb, [&] { return afnb->forward(low, high); }, upstream);
  const Result literal = RunAndDifferentiate(
      *afnb, [&] { return Literal(afnb->stages, *afnb->bottleneck, high, low, high); }, upstream);
  ExpectSame(fused, literal, "AFNB, " + std::to_string(stages) + " stage(s)");
}

TEST_P(FusedBottleneckTest, ApnbTrainingMatchesTheLiteralBottleneck) {
  const int stages = GetParam();
  APNB apnb(/*in=*/40, /*channels=*/8, /*out=*/40, std::vector<int64_t>{1, 3, 6},
            /*conv_bias=*/false, 0.0);
  for (int i = 1; i < stages; ++i) {
    apnb->stages->push_back(SelfAttentionBlock(
        SelfAttentionOptions(40, 40, 8, 40).share_key_query(true).pool_scales({2})));
  }
  apnb->to(torch::kDouble);
  Randomize(*apnb, 10 + stages);
  apnb->train();
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const torch::Tensor feats = torch::randn({2, 40, 9, 7}, opts);
  const torch::Tensor upstream = torch::randn({2, 40, 9, 7}, opts);
  const Result fused = RunAndDifferentiate(
      *apnb, [&] { return apnb->forward(feats); }, upstream);
  const Result literal = RunAndDifferentiate(
      *apnb, [&] { return Literal(apnb->stages, *apnb->bottleneck, feats, feats, feats); },
      upstream);
  ExpectSame(fused, literal, "APNB, " + std::to_string(stages) + " stage(s)");
}

INSTANTIATE_TEST_SUITE_P(OneAndTwoStages, FusedBottleneckTest, ::testing::Values(1, 2));

TEST(FusedBottleneckTest, ModelAsLoadedTakesTheLiteralPath) {
  AFNB afnb(24, 40, 8, 40, std::vector<int64_t>{1, 3}, false, 0.0);
  Randomize(*afnb, 3);
  afnb->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor low = torch::randn({1, 24, 5, 11}), high = torch::randn({1, 40, 5, 11});
  // Bit for bit: the same operations in the same order.
  EXPECT_TRUE(
      afnb->forward(low, high).equal(Literal(afnb->stages, *afnb->bottleneck, high, low, high)));
}

TEST(FusedBottleneckTest, NarrowContextDoesNotFuse) {
  // Attention as wide as the context: fusing would not save work.
  AFNB afnb(24, 40, 16, 16, std::vector<int64_t>{1}, false, 0.0);
  EXPECT_FALSE(FusedBottleneck::Pays(afnb->stages));
}

}  // namespace
}  // namespace ann
