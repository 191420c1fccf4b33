// The inference form (EncoderDecoder::PrepareForInference): BatchNorm folding is exact, and the
// folded channels-last model predicts what the model as loaded predicts, for every depth and
// both variants, with non-trivial BatchNorm statistics.
#include <cmath>
#include <tuple>

#include "ann/model/conv_module.h"
#include "ann/model/segmentor.h"
#include "ann/util/cpu.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

// BN statistics and affine parameters far from (0, 1), as after training.
void RandomizeBatchNorms(torch::nn::Module& model, int64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (const auto& module : model.modules()) {
    if (auto* bn = module->as<SyncBatchNormImpl>()) {
      bn->running_mean.copy_(torch::randn_like(bn->running_mean) * 0.5);
      bn->running_var.copy_(torch::rand_like(bn->running_var) * 2 + 0.05);
      bn->weight.copy_(torch::rand_like(bn->weight) + 0.5);
      bn->bias.copy_(torch::randn_like(bn->bias) * 0.2);
    }
  }
}

TEST(InferenceFormTest, FoldingAConvBatchNormPairIsExact) {
  torch::manual_seed(3);
  // Dilated, strided, with and without a conv bias; in float64 the fold is exact to rounding.
  for (bool bias : {false, true}) {
    torch::nn::Conv2d conv(
        torch::nn::Conv2dOptions(5, 7, 3).stride(2).padding(2).dilation(2).bias(bias));
    SyncBatchNorm bn(7);
    conv->to(torch::kDouble);
    bn->to(torch::kDouble);
    RandomizeBatchNorms(*bn, 4);
    bn->eval();
    const torch::Tensor x = torch::randn({2, 5, 13, 11}, torch::kDouble);
    const torch::Tensor expected = bn->forward(conv->forward(x));
    FoldBatchNormInto(*conv, *bn);
    const torch::Tensor got = conv->forward(x);
    EXPECT_LT((got - expected).abs().max().item<double>(), 1e-12) << "bias " << bias;
    // The statistics really were non-trivial: without the fold the output differs a lot.
    EXPECT_GT((expected - x.mean()).abs().max().item<double>(), 0.5);
  }
}

TEST(InferenceFormTest, ComposedHeadBottleneckKeepsTheBorderBias) {
  // R-50's head: AFNB's 1x1 bottleneck composed into the 3x3 one (ComposedBottleneck), against
  // the head as loaded in float64, on feature maps of odd sizes down to smaller than the 3x3
  // border (1x1, 2x5). The BN statistics make AFNB's bias non-trivial, so a bias map without
  // its border corrections is off by O(1) on the first and last rows and columns.
  ModelConfig config = DefaultModelConfig(Variant::kMmseg);
  config.num_classes = 5;
  config.with_auxiliary_head = false;
  torch::manual_seed(21);
  EncoderDecoder model(config);
  model->InitWeights();
  RandomizeBatchNorms(*model, 22);
  torch::NoGradGuard no_grad;
  for (const auto& item : model->named_parameters()) {
    if (item.key().find("out_project") != std::string::npos) item.value().normal_(0, 0.05);
  }
  model->eval();
  const std::vector<std::pair<int64_t, int64_t>> sizes = {{9, 13}, {4, 3}, {2, 5}, {1, 1}};
  std::vector<std::vector<torch::Tensor>> inputs;
  std::vector<torch::Tensor> expected, expected_bottleneck;
  model->to(torch::kDouble);
  ANNHeadImpl& head = *model->decode_head;
  for (const auto& [h, w] : sizes) {
    inputs.push_back({torch::Tensor(), torch::Tensor(),
                      torch::randn({2, 1024, h, w}, torch::kDouble).relu(),
                      torch::randn({2, 2048, h, w}, torch::kDouble).relu()});
    expected.push_back(head.forward(inputs.back()));
    expected_bottleneck.push_back(
        head.bottleneck->forward(head.fusion->forward(inputs.back()[2], inputs.back()[3])));
  }
  model->to(torch::kFloat);
  // The inference form in `precision` against float64, relative to the largest logit.
  auto check = [&](Precision precision, torch::ScalarType dtype, double tolerance) {
    model->PrepareForInference(precision);
    ASSERT_TRUE(model->decode_head->composed());
    for (size_t i = 0; i < sizes.size(); ++i) {
      std::vector<torch::Tensor> x;
      for (const torch::Tensor& t : inputs[i]) {
        x.push_back(t.defined() ? t.to(dtype).contiguous(torch::MemoryFormat::ChannelsLast) : t);
      }
      const torch::Tensor got = model->decode_head->forward(x).to(torch::kDouble);
      ASSERT_EQ(got.sizes(), expected[i].sizes());
      const double rel = ((got - expected[i]).abs().max() / expected[i].abs().max()).item<double>();
      EXPECT_LT(rel, tolerance) << dtype << " " << sizes[i].first << "x" << sizes[i].second;
    }
  };
  check(Precision::kFp32, torch::kFloat, 1e-5);

  // kInt8 (before bf16, which rounds the weights): the head runs uncomposed, and the composed
  // chunks' weights (what the int8 forward quantizes: one conv per attention map and per 512
  // channels of C5), summed, plus the border bias and the ReLU, are the head's bottleneck.
  model->PrepareForInference(Precision::kInt8);
  EXPECT_FALSE(head.composed());
  const ComposedBottleneck& composed = head.composed_bottleneck();
  ASSERT_TRUE(composed.has_weights());
  ASSERT_EQ(composed.chunks().size(), 5u);
  const auto padding = composed.padding(), dilation = composed.dilation();
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::vector<torch::Tensor> x;
    for (const torch::Tensor& t : inputs[i]) x.push_back(t.defined() ? t.to(torch::kFloat) : t);
    const torch::Tensor whole = head.forward(x).to(torch::kDouble);
    EXPECT_LT(((whole - expected[i]).abs().max() / expected[i].abs().max()).item<double>(), 1e-5);
    const std::vector<torch::Tensor> parts = head.fusion->FusedInputs(x[2], x[3]);
    torch::Tensor sum;
    for (const ComposedBottleneck::Chunk& chunk : composed.chunks()) {
      EXPECT_EQ(chunk.conv, nullptr);
      const torch::Tensor part =
          torch::conv2d(parts[chunk.input].narrow(1, chunk.start, chunk.length), chunk.weight,
                        chunk.bias, 1, {padding[0], padding[1]}, {dilation[0], dilation[1]});
      sum = sum.defined() ? sum + part : part;
    }
    composed.AddBorderBias(sum);
    if (composed.relu()) sum.relu_();
    const torch::Tensor& e = expected_bottleneck[i];
    EXPECT_LT(((sum.to(torch::kDouble) - e).abs().max() / e.abs().max()).item<double>(), 1e-5)
        << sizes[i].first << "x" << sizes[i].second;
  }

  // bf16: measured 0.004-0.008, as the uncomposed bf16 head (0.003-0.007).
  if (CpuHasBf16()) check(Precision::kBf16, torch::kBFloat16, 0.02);
}

TEST(InferenceFormTest, HeadBottleneckIsComposedOnlyWhereThatSavesWork) {
  // R-18's head (512-wide C5): the composed 3x3 conv over 768 channels would cost more than the
  // 1x1 (768 -> 512) and 3x3 (512 -> 512) it replaces.
  for (int depth : {18, 50}) {
    ModelConfig config = DefaultModelConfig(Variant::kMmseg);
    config.depth = depth;
    config.num_classes = 3;
    EncoderDecoder model(config);
    model->PrepareForInference(Precision::kFp32);
    EXPECT_EQ(model->decode_head->composed(), depth == 50) << depth;
  }
}

class InferenceFormParityTest : public ::testing::TestWithParam<std::tuple<int, Variant>> {};

TEST_P(InferenceFormParityTest, Fp32MatchesTheModelAsLoaded) {
  const auto [depth, variant] = GetParam();
  ModelConfig config = DefaultModelConfig(variant);
  config.depth = depth;
  config.num_classes = 11;
  config.with_auxiliary_head = false;
  torch::manual_seed(depth);
  EncoderDecoder model(config);
  model->InitWeights();
  RandomizeBatchNorms(*model, depth + 1);
  {
    // InitWeights zeroes the attention out-projections: give them weights so the attention
    // blocks count.
    torch::NoGradGuard no_grad;
    for (const auto& item : model->named_parameters()) {
      if (item.key().find("out_project") != std::string::npos) item.value().normal_(0, 0.05);
    }
  }
  model->eval();
  torch::InferenceMode guard;
  const torch::Tensor x = torch::randn({1, 3, 67, 93});  // odd, asymmetric
  const torch::Tensor expected = model->Predict(x);
  model->PrepareForInference(Precision::kFp32);
  const torch::Tensor got = model->Predict(x);
  ASSERT_EQ(got.sizes(), expected.sizes());
  const double rel = ((got - expected).abs().max() / expected.abs().max()).item<double>();
  EXPECT_LE(rel, 1e-4) << "depth " << depth;
  const double agree =
      (got.argmax(1) == expected.argmax(1)).to(torch::kDouble).mean().item<double>();
  EXPECT_GE(agree, 0.9999) << "depth " << depth;
}

INSTANTIATE_TEST_SUITE_P(AllDepthsBothVariants, InferenceFormParityTest,
                         ::testing::Combine(::testing::Values(18, 34, 50, 101),
                                            ::testing::Values(Variant::kMmseg,
                                                              Variant::kOriginal)));

TEST(InferenceFormTest, Bf16StaysCloseWhereTheCpuHasIt) {
  if (!CpuHasBf16()) GTEST_SKIP() << "this CPU has no bf16 arithmetic";
  ModelConfig config;
  config.depth = 18;
  config.num_classes = 7;
  torch::manual_seed(8);
  EncoderDecoder model(config);
  model->InitWeights();
  RandomizeBatchNorms(*model, 9);
  model->eval();
  torch::InferenceMode guard;
  const torch::Tensor x = torch::randn({1, 3, 45, 71});
  const torch::Tensor expected = model->Predict(x);
  model->PrepareForInference(Precision::kBf16);
  const torch::Tensor got = model->Predict(x);
  EXPECT_EQ(got.scalar_type(), torch::kFloat);  // logits come back in float32
  const double rel = ((got - expected).abs().max() / expected.abs().max()).item<double>();
  EXPECT_LT(rel, 0.05);
  EXPECT_GT(rel, 0.0);  // it did run in bf16
}

}  // namespace
}  // namespace ann
