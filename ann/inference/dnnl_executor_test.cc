#include "ann/inference/dnnl_executor.h"

#include "ann/inference/inference_form.h"
#include "ann/model/segmentor.h"
#include "ann/util/cpu.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

struct Case {
  Variant variant;
  int depth;
  int64_t channels, project_channels;
};

// The same random weights and trained-looking BatchNorm statistics every call.
EncoderDecoder MakeModel(const Case& c) {
  torch::manual_seed(c.depth * 7 + static_cast<int>(c.variant));
  ModelConfig config = DefaultModelConfig(c.variant);
  config.depth = c.depth;
  config.num_classes = 7;
  config.channels = c.channels;
  config.project_channels = c.project_channels;
  config.align_corners = c.variant == Variant::kOriginal;
  EncoderDecoder model(config);
  torch::NoGradGuard no_grad;
  for (const auto& m : model->modules()) {
    if (auto* bn = m->as<SyncBatchNormImpl>()) {
      bn->running_mean.uniform_(-0.3, 0.3);
      bn->running_var.uniform_(0.4, 1.6);
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.2, 0.2);
    }
  }
  model->eval();
  return model;
}

class DnnlExecutorTest : public ::testing::TestWithParam<Case> {};

// The executor on the rewritten graph gives what the inference form built inside the modules
// (EncoderDecoder::PrepareForInference) gave, bit for bit, and the model's own logits up to
// rounding.
TEST_P(DnnlExecutorTest, EqualsTheModulesInferenceForm) {
  const Case c = GetParam();
  EncoderDecoder model = MakeModel(c);
  torch::manual_seed(21);
  const torch::Tensor x =
      torch::randn({2, 3, 83, 61}) + torch::linspace(-1, 1, 61).view({1, 1, 1, 61});
  torch::NoGradGuard no_grad;
  const torch::Tensor exact = model->Predict(x);
  std::vector<torch::ScalarType> dtypes = {torch::kFloat};
  if (CpuHasBf16()) dtypes.push_back(torch::kBFloat16);
  for (torch::ScalarType dtype : dtypes) {
    const DnnlExecutor executor(InferenceGraph(*model), dtype);
    const torch::Tensor logits = executor.Predict(x);
    EncoderDecoder prepared = MakeModel(c);
    prepared->PrepareForInference(dtype == torch::kFloat ? Precision::kFp32 : Precision::kBf16);
    const torch::Tensor before = prepared->Predict(x);
    EXPECT_TRUE(torch::equal(logits, before))
        << dtype << ": max |diff| " << (logits - before).abs().max().item<double>();
    const double tolerance = dtype == torch::kFloat ? 1e-3 : 0.1;
    EXPECT_LT((logits - exact).abs().max().item<double>(), tolerance * exact.abs().max().item<double>());
  }
}

INSTANTIATE_TEST_SUITE_P(Models, DnnlExecutorTest,
                         ::testing::Values(Case{Variant::kMmseg, 18, 128, 64},
                                           Case{Variant::kOriginal, 18, 128, 64},
                                           Case{Variant::kMmseg, 50, 512, 256},
                                           Case{Variant::kOriginal, 50, 512, 256}));

}  // namespace
}  // namespace ann
