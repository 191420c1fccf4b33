#include "ann/eval/predictor.h"

#include "ann/data/normalize.h"
#include "ann/eval/backend.h"
#include "ann/io/image.h"
#include "gtest/gtest.h"
#include "opencv2/imgproc.hpp"
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

// A predictor running the model's own forward.
Predictor Exact(EncoderDecoder model, const TestConfig& config = TestConfig()) {
  return Predictor(model->config(), NormalizeParams(), config, ExactForward(model));
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
  Predictor whole = Exact(model);
  TestConfig slide_config;
  slide_config.mode = TestConfig::Mode::kSlide;
  slide_config.crop = {64, 48};  // One window covers the image.
  slide_config.stride = {32, 32};
  Predictor slide = Exact(model, slide_config);
  EXPECT_TRUE(whole.Logits(image).equal(slide.Logits(image)));
  // A crop larger than the image is one window too (no padding, as mmseg).
  slide_config.crop = {100, 100};
  Predictor big = Exact(model, slide_config);
  EXPECT_TRUE(whole.Logits(image).equal(big.Logits(image)));
}

TEST(PredictorTest, SlideAveragesOverlappingWindows) {
  EncoderDecoder model = TinyModel();
  const cv::Mat image = RandomImage(40, 56, 2);
  TestConfig config;
  config.mode = TestConfig::Mode::kSlide;
  config.crop = {32, 32};
  config.stride = {24, 16};
  Predictor slide = Exact(model, config);
  torch::Tensor got = slide.Logits(image);
  // Windows per axis: rows max(40-32+16-1,0)/16+1 = 2 → y in {0, 8}; cols (56-32+24-1)/24+1 = 2
  // → x in {0, 24}; each summed where it lands and divided by the count.
  Predictor whole = Exact(model);
  torch::InferenceMode guard;
  torch::Tensor input = NormalizeImage(image, NormalizeParams());
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
  Predictor whole = Exact(model);
  TestConfig one;
  one.ratios = {1.0};
  Predictor single = Exact(model, one);
  EXPECT_TRUE(whole.Logits(image).equal(single.Logits(image)));
  // With flip, scores are averaged probabilities; for a mirror-symmetric image they are mirror
  // symmetric, and they sum to 1 over classes.
  cv::Mat half = RandomImage(32, 24, 4), mirrored, symmetric;
  cv::flip(half, mirrored, 1);
  cv::hconcat(half, mirrored, symmetric);
  TestConfig flip;
  flip.flip = true;
  Predictor flipped = Exact(model, flip);
  torch::Tensor p = flipped.Logits(symmetric);
  EXPECT_TRUE(torch::allclose(p, p.flip({2}), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(p.sum(0), torch::ones({32, 48}), 1e-5, 1e-5));
  // Multi-scale keeps the image size.
  TestConfig multi;
  multi.ratios = {0.5, 1.0, 1.5};
  multi.flip = true;
  EXPECT_EQ(Exact(model, multi).Logits(image).sizes(), (std::vector<int64_t>{5, 32, 48}));
  // The test scale resizes keep-ratio before inference, and back after.
  TestConfig scaled;
  scaled.test_scale = {96, 64};
  EXPECT_EQ(Exact(model, scaled).Logits(image).sizes(), (std::vector<int64_t>{5, 32, 48}));
}

// One pass as mmseg runs it: the image resized to `size` (bilinear), optionally mirrored,
// normalised, predicted, logits resized to the image; 0.x order (resize, softmax, un-flip).
torch::Tensor PassProbabilities(EncoderDecoder& model, const cv::Mat& image, cv::Size size,
                                bool flipped, bool mmseg1x) {
  cv::Mat scaled = image.clone(), view;
  if (size != image.size()) cv::resize(image, scaled, size, 0, 0, cv::INTER_LINEAR);
  if (flipped) {
    cv::flip(scaled, view, 1);
  } else {
    view = scaled;
  }
  torch::InferenceMode guard;
  torch::Tensor out = model->Predict(NormalizeImage(view, NormalizeParams()));
  if (mmseg1x && flipped) out = out.flip({3});
  out = torch::softmax(ResizeLogits(out, image.rows, image.cols, false), 1);
  if (!mmseg1x && flipped) out = out.flip({3});
  return out[0];
}

// The flip-averaging bug: a ratio that needs no resize mirrored the caller's image in place, so
// every later ratio ran on the mirror. An asymmetric, odd-sized image whose own size is one of the
// pass sizes (ratio 1.0, not last) shows it.
TEST(PredictorTest, MultiScaleFlipAveragesPassesAndLeavesTheImageAlone) {
  EncoderDecoder model = TinyModel();
  const cv::Mat image = RandomImage(37, 53, 5);
  const cv::Mat before = image.clone();
  TestConfig config;
  config.ratios = {0.5, 1.0, 1.25};
  config.flip = true;
  torch::Tensor got = Exact(model, config).Logits(image);
  EXPECT_EQ(cv::norm(image, before, cv::NORM_INF), 0.0) << "the input image was modified";
  // mmseg 0.x pass sizes without a test scale (Resize scale_factor + imrescale), by hand:
  // 0.5 → target (26, 18), factor min(26/53, 18/37) → (26, 18); 1.25 → (66, 46) → (66, 46).
  torch::Tensor expected = torch::zeros_like(got);
  for (cv::Size size : {cv::Size(26, 18), cv::Size(53, 37), cv::Size(66, 46)}) {
    for (bool flipped : {false, true}) {
      expected += PassProbabilities(model, before, size, flipped, /*mmseg1x=*/false);
    }
  }
  expected /= 6.0;
  EXPECT_TRUE(torch::allclose(got, expected, 1e-5, 1e-6))
      << (got - expected).abs().max().item<float>();
  // Running it twice gives the same answer (nothing left mirrored between calls).
  EXPECT_TRUE(torch::equal(got, Exact(model, config).Logits(image)));
}

TEST(PredictorTest, Mmseg1xScalesTheImageItselfAndUnflipsBeforeResizing) {
  EncoderDecoder model = TinyModel();
  const cv::Mat image = RandomImage(37, 53, 6);
  TestConfig config;
  config.ratios = {0.5, 1.0};
  config.flip = true;
  config.test_scale = {200, 100};  // 1.x's TTA ignores the test scale
  config.aug_style = TestConfig::AugStyle::kMmseg1x;
  torch::Tensor got = Exact(model, config).Logits(image);
  // 1.x: _scale_size((53, 37), 0.5) = (int(27.0), int(19.0)) = (27, 19); imrescale keeps it.
  torch::Tensor expected = torch::zeros_like(got);
  for (cv::Size size : {cv::Size(27, 19), cv::Size(53, 37)}) {
    for (bool flipped : {false, true}) {
      expected += PassProbabilities(model, image, size, flipped, /*mmseg1x=*/true);
    }
  }
  expected /= 4.0;
  EXPECT_TRUE(torch::allclose(got, expected, 1e-5, 1e-6))
      << (got - expected).abs().max().item<float>();
  // mmseg 0.x on the same flags differs: its passes are ratios of the 200x100 test scale.
  config.aug_style = TestConfig::AugStyle::kMmseg0x;
  EXPECT_GT((Exact(model, config).Logits(image) - got).abs().max().item<float>(), 1e-4);
}

// Labels is the first maximum over the classes, for planar and channels-last scores alike,
// ties included (integer-valued scores tie often).
TEST(PredictorTest, LabelsAreTheFirstMaximumInEitherMemoryFormat) {
  torch::manual_seed(5);
  const torch::Tensor scores = torch::randint(0, 3, {7, 13, 21}).to(torch::kFloat);  // [K, H, W]
  // Expected by hand: the lowest class holding the maximum.
  const torch::Tensor max = std::get<0>(scores.max(0));
  torch::Tensor expected = torch::full({13, 21}, 255, torch::kUInt8);
  for (int64_t k = 6; k >= 0; --k) expected.masked_fill_(scores[k] == max, k);
  EXPECT_TRUE(Predictor::Labels(scores).equal(expected));
  const torch::Tensor channels_last =
      scores.unsqueeze(0).contiguous(torch::MemoryFormat::ChannelsLast)[0];
  ASSERT_FALSE(channels_last.is_contiguous());
  EXPECT_TRUE(Predictor::Labels(channels_last).equal(expected));
}

TEST(PredictorTest, CropStartsFollowTheAuthorsRule) {
  using V = std::vector<int64_t>;
  EXPECT_EQ(CropStarts(864, 864, 576), (V{0}));
  EXPECT_EQ(CropStarts(1024, 864, 576), (V{0, 160}));
  EXPECT_EQ(CropStarts(1280, 864, 576), (V{0, 416}));
  EXPECT_EQ(CropStarts(2048, 864, 576), (V{0, 576, 1152, 1184}));
  EXPECT_EQ(CropStarts(2560, 864, 576), (V{0, 576, 1152, 1696}));
  EXPECT_EQ(CropStarts(1440, 864, 576), (V{0, 576}));  // exact fit: nothing appended
  EXPECT_EQ(CropStarts(237, 96, 64), (V{0, 64, 128, 141}));
}

TEST(PredictorTest, MsCropWithOneWholePassEqualsWhole) {
  EncoderDecoder model = TinyModel();
  const cv::Mat image = RandomImage(37, 53, 7);
  const cv::Mat before = image.clone();
  TestConfig config;
  config.mode = TestConfig::Mode::kMsCrop;
  config.crop = {864, 864};  // larger than the image: one whole pass
  config.ratios = {1.0};
  torch::Tensor got = Exact(model, config).Logits(image);
  EXPECT_TRUE(torch::equal(got, Exact(model).Logits(image)));
  // With flip, the sum of both passes' logits (raw, no softmax).
  config.flip = true;
  torch::Tensor both = Exact(model, config).Logits(image);
  cv::Mat mirrored;
  cv::flip(image, mirrored, 1);
  torch::Tensor expected = got + Exact(model).Logits(mirrored).flip({2});
  EXPECT_TRUE(torch::allclose(both, expected, 1e-5, 1e-5));
  EXPECT_EQ(cv::norm(image, before, cv::NORM_INF), 0.0);
}

}  // namespace
}  // namespace ann
