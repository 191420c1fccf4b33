#include "ann/inference/dnnl_executor.h"

#include "ann/inference/inference_form.h"
#include "ann/inference/test_models.h"
#include "ann/inference/torch_executor.h"
#include "ann/model/segmentor.h"
#include "ann/util/cpu.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

using Case = ModelCase;

EncoderDecoder MakeModel(const Case& c) {
  return TrainedLookingModel(c, c.depth * 7 + static_cast<int>(c.variant));
}

class DnnlExecutorTest : public ::testing::TestWithParam<Case> {};

double MaxDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// The executor runs the rewritten graph as LibTorch's operators do (the reference executor), and
// gives the model's own logits up to rounding. (Against the inference form the modules built
// before the graph existed, ann 0.1's PrepareForInference, it was bit-identical: issue 32.)
TEST_P(DnnlExecutorTest, RunsTheGraphAsTheReference) {
  const Case c = GetParam();
  EncoderDecoder model = MakeModel(c);
  torch::manual_seed(21);
  const torch::Tensor x =
      torch::randn({2, 3, 83, 61}) + torch::linspace(-1, 1, 61).view({1, 1, 1, 61});
  torch::NoGradGuard no_grad;
  const torch::Tensor exact = model->Predict(x);
  const double scale = exact.abs().max().item<double>();
  const Graph graph = InferenceGraph(*model);
  const torch::Tensor reference = RunGraph(graph, {x})[0];
  EXPECT_LT(MaxDiff(reference, exact), 1e-4 * scale);
  const torch::Tensor fp32 = DnnlExecutor(graph, Precision::kFp32).Predict(x);
  EXPECT_EQ(fp32.sizes(), exact.sizes());
  EXPECT_LT(MaxDiff(fp32, reference), 1e-4 * scale);
  if (CpuHasBf16()) {
    const torch::Tensor bf16 = DnnlExecutor(graph, Precision::kBf16).Predict(x);
    EXPECT_LT(MaxDiff(bf16, exact), 0.1 * scale);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, DnnlExecutorTest,
                         ::testing::Values(Case{Variant::kMmseg, 18, 128, 64},
                                           Case{Variant::kOriginal, 18, 128, 64},
                                           Case{Variant::kMmseg, 50, 512, 256},
                                           Case{Variant::kOriginal, 50, 512, 256},
                                           Case{Variant::kMmseg, 101, 512, 256}));

}  // namespace
}  // namespace ann
