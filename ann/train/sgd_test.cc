#include "ann/train/sgd.h"

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

TEST(SgdTest, MatchesTorchOptimSgdByHand) {
  torch::Tensor p = torch::tensor({1.0, -2.0}, torch::kFloat64).requires_grad_(true);
  Sgd sgd({p}, 0.9, 0.1);
  // Step 1: g = (0.5, 0.5); d = g + 0.1 p = (0.6, 0.3); buf = d; p -= 0.01 d.
  p.mutable_grad() = torch::tensor({0.5, 0.5}, torch::kFloat64);
  sgd.Step(0.01);
  EXPECT_NEAR(p[0].item<double>(), 1.0 - 0.006, 1e-15);
  EXPECT_NEAR(p[1].item<double>(), -2.0 - 0.003, 1e-15);
  // Step 2: g = (0, 0); d = 0.1 p; buf = 0.9 buf + d; p -= 0.1 buf.
  p.mutable_grad() = torch::zeros({2}, torch::kFloat64);
  const double p0 = 1.0 - 0.006, buf0 = 0.9 * 0.6 + 0.1 * p0;
  sgd.Step(0.1);
  EXPECT_NEAR(p[0].item<double>(), p0 - 0.1 * buf0, 1e-15);
  // The state round-trips through the state_dict layout.
  Sgd other({p}, 0.9, 0.1);
  ASSERT_TRUE(other.LoadStateDict(*sgd.StateDict(0.1)).ok());
  EXPECT_TRUE(other.buffers()[0].equal(sgd.buffers()[0]));
  // Shared parameters are listed once.
  torch::nn::Linear a(2, 2);
  torch::nn::Sequential seq;
  seq->push_back("a", a);
  seq->push_back("b", a);
  EXPECT_EQ(UniqueParameters(*seq).size(), 2u);
}

}  // namespace
}  // namespace ann
