#include "ann/eval/predictor.h"

#include "ann/io/image.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

EncoderDecoder TinyModel() {
  torch::manual_seed(3);
  ModelConfig config;
  config.depth = 18;
  config.num_classes = 5;
  config.channels = 16;
  config.project_channels = 8;
  EncoderDecoder model(config);
  model->InitWeights();
  // Non-trivial heads: InitWeights zeroes the attention out-projections.
  torch::NoGradGuard no_grad;
  for (auto& p : model->decode_head->parameters()) p.add_(torch::randn_like(p) * 0.05);
  model->eval();
  return model;
}

cv::Mat RandomImage(int h, int w, uint64_t seed) {
  cv::Mat image(h, w, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(image, cv::RNG::UNIFORM, 0, 256);
  return image;
}

TEST(PredictorTest, SlideWithOneWindowEqualsWhole) {
  EncoderDecoder model = TinyModel();
  const cv::Mat image = RandomImage(48, 64, 1);
  Predictor whole(model);
  InferenceConfig slide_config;
  slide_config.mode = InferenceConfig::Mode::kSlide;
  slide_config.crop = {64, 48};  // One window covers the image.
  slide_config.stride = {32, 32};
  Predictor slide(model, slide_config);
  EXPECT_TRUE(whole.Logits(image).equal(slide.Logits(image)));
  // A crop larger than the image is one window too (no padding, as mmseg).
  slide_config.crop = {100, 100};
  Predictor big(model, slide_config);
  EXPECT_TRUE(whole.Logits(image).equal(big.Logits(image)));
}

TEST(PredictorTest, SlideAveragesOverlappingWindows) {
  EncoderDecoder model = TinyModel();
  const cv::Mat image = RandomImage(40, 56, 2);
  InferenceConfig config;
  config.mode = InferenceConfig::Mode::kSlide;
  config.crop = {32, 32};
  config.stride = {24, 16};
  Predictor slide(model, config);
  torch::Tensor got = slide.Logits(image);
  // Windows per axis: rows max(40-32+16-1,0)/16+1 = 2 → y in {0, 8}; cols (56-32+24-1)/24+1 = 2
  // → x in {0, 24}; each summed where it lands and divided by the count.
  Predictor whole(model);
  torch::InferenceMode guard;
  torch::Tensor input = NormalizeImage(ImageToTensor(image), model->config());
  torch::Tensor sum = torch::zeros_like(got).unsqueeze(0), count = torch::zeros({1, 1, 40, 56});
  for (int64_t y : {0, 8}) {
    for (int64_t x : {0, 24}) {
      sum.slice(2, y, y + 32).slice(3, x, x + 32) +=
          model->Predict(input.slice(2, y, y + 32).slice(3, x, x + 32));
      count.slice(2, y, y + 32).slice(3, x, x + 32) += 1;
    }
  }
  EXPECT_TRUE(torch::allclose(got, (sum / count)[0], 1e-5, 1e-6));
}

TEST(PredictorTest, SingleScaleAugEqualsWholeAndFlipIsSymmetric) {
  EncoderDecoder model = TinyModel();
  const cv::Mat image = RandomImage(32, 48, 3);
  Predictor whole(model);
  InferenceConfig one;
  one.ratios = {1.0};
  Predictor single(model, one);
  EXPECT_TRUE(whole.Logits(image).equal(single.Logits(image)));
  // With flip, scores are averaged probabilities; for a mirror-symmetric image they are mirror
  // symmetric, and they sum to 1 over classes.
  cv::Mat half = RandomImage(32, 24, 4), mirrored, symmetric;
  cv::flip(half, mirrored, 1);
  cv::hconcat(half, mirrored, symmetric);
  InferenceConfig flip;
  flip.flip = true;
  Predictor flipped(model, flip);
  torch::Tensor p = flipped.Logits(symmetric);
  EXPECT_TRUE(torch::allclose(p, p.flip({2}), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(p.sum(0), torch::ones({32, 48}), 1e-5, 1e-5));
  // Multi-scale keeps the image size.
  InferenceConfig multi;
  multi.ratios = {0.5, 1.0, 1.5};
  multi.flip = true;
  EXPECT_EQ(Predictor(model, multi).Logits(image).sizes(), (std::vector<int64_t>{5, 32, 48}));
  // The test scale resizes keep-ratio before inference, and back after.
  InferenceConfig scaled;
  scaled.test_scale = {96, 64};
  EXPECT_EQ(Predictor(model, scaled).Logits(image).sizes(), (std::vector<int64_t>{5, 32, 48}));
}

}  // namespace
}  // namespace ann
