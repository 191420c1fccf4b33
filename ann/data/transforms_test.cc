#include "ann/data/transforms.h"

#include <set>

#include "gtest/gtest.h"
#include "opencv2/core.hpp"

namespace ann {
namespace {

cv::Mat RandomImage(int h, int w, uint64_t seed) {
  cv::Mat image(h, w, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(image, cv::RNG::UNIFORM, 0, 256);
  return image;
}

// Labels made of a few values (and some 255) in blocks, so nearest-neighbour resizing matters.
cv::Mat BlockLabel(int h, int w, std::vector<uint8_t> values) {
  cv::Mat label(h, w, CV_8UC1);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) label.at<uint8_t>(y, x) = values[(y / 7 + x / 5) % values.size()];
  }
  return label;
}

std::set<int> Values(const cv::Mat& label) {
  std::set<int> values;
  for (int y = 0; y < label.rows; ++y) {
    for (int x = 0; x < label.cols; ++x) values.insert(label.at<uint8_t>(y, x));
  }
  return values;
}

TEST(TransformsTest, RescaleSizeKeepsRatioLikeMmcv) {
  // 2048x1024 into (2048, 1024): unchanged; into (1024, 512): halved.
  EXPECT_EQ(RescaleSize({2048, 1024}, {2048, 1024}), cv::Size(2048, 1024));
  EXPECT_EQ(RescaleSize({2048, 1024}, {1024, 512}), cv::Size(1024, 512));
  // 500x375 (VOC-like) into (2048, 512): factor min(2048/500, 512/375) = 1.36533 →
  // int(500*1.36533+0.5) = 683, int(375*1.36533+0.5) = 512.
  EXPECT_EQ(RescaleSize({500, 375}, {2048, 512}), cv::Size(683, 512));
  // Portrait 375x500: factor min(2048/500, 512/375) again → 512x683.
  EXPECT_EQ(RescaleSize({375, 500}, {2048, 512}), cv::Size(512, 683));
  // Order of the scale does not matter.
  EXPECT_EQ(RescaleSize({2048, 1024}, {1024, 2048}), cv::Size(2048, 1024));
}

TEST(TransformsTest, DrawsAreNumpyLike) {
  Rng rng(1);
  for (int i = 0; i < 1000; ++i) {
    const int r = RandInt(rng, -18, 18);
    EXPECT_GE(r, -18);
    EXPECT_LT(r, 18);
    const double u = Uniform(rng, 0.5, 2.0);
    EXPECT_GE(u, 0.5);
    EXPECT_LT(u, 2.0);
  }
  EXPECT_EQ(RandInt(rng, 3, 4), 3);
  EXPECT_NE(MixSeed(1, 2, 3, 4), MixSeed(1, 2, 4, 3));
}

TEST(TransformsTest, CropWithoutRetryWhenTheFirstBoxIsMixed) {
  // A checkerboard of two classes: every crop is mixed at 50%, so the first draw is accepted and
  // equals the unconstrained draw from the same stream.
  cv::Mat label(64, 64, CV_8UC1);
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) label.at<uint8_t>(y, x) = (x + y) % 2;
  }
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Rng a(seed), b(seed);
    EXPECT_EQ(RandomCropBox(label, {16, 16}, 0.75, 255, a),
              RandomCropBox(label, {16, 16}, 1.0, 255, b));
  }
}

TEST(TransformsTest, CatMaxRatioRetriesSingleClassCrops) {
  // Class 1 only in a 12-pixel-wide stripe in the middle of class 0; most 16x16 crops are pure 0.
  cv::Mat label(32, 128, CV_8UC1, cv::Scalar(0));
  label.colRange(58, 70).setTo(1);
  auto good = [&](const cv::Rect& box) {
    cv::Mat crop = label(box);
    const double ones = cv::countNonZero(crop);
    const double total = crop.total();
    return ones > 0 && ones < total && std::max(ones, total - ones) / total < 0.75;
  };
  int good_plain = 0, good_retry = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Rng a(seed), b(seed);
    good_plain += good(RandomCropBox(label, {16, 16}, 1.0, 255, a));
    good_retry += good(RandomCropBox(label, {16, 16}, 0.75, 255, b));
  }
  // A crop is good when it overlaps the stripe by 5..11 columns: x in 47..53 or 59..65, 14 of
  // the 113 offsets. One draw: p = 14/113 = 0.124; 11 draws: 1 - (99/113)^11 = 0.767.
  EXPECT_NEAR(good_plain / 300.0, 14.0 / 113, 0.05);
  EXPECT_NEAR(good_retry / 300.0, 0.767, 0.07);
  // Ignored pixels do not count: class 0 plus 255 is single-class everywhere, so all ten
  // retries fail and the 11th draw is kept unchecked, as in mmseg.
  cv::Mat ignored(32, 32, CV_8UC1, cv::Scalar(0));
  ignored.colRange(0, 16).setTo(255);
  for (uint64_t seed = 0; seed < 10; ++seed) {
    Rng c(seed), d(seed);
    cv::Rect last;
    for (int i = 0; i < 11; ++i) last = RandomCropBox(ignored, {16, 16}, 1.0, 255, d);
    EXPECT_EQ(RandomCropBox(ignored, {16, 16}, 0.75, 255, c), last);
  }
}

TEST(TransformsTest, PipelineKeepsOnlySourceLabelValuesAndCropSize) {
  for (auto variant : {Variant::kMmseg, Variant::kOriginal}) {
    TrainPipelineConfig config;
    config.variant = variant;
    config.scale = {256, 128};
    config.crop = {96, 64};
    for (uint64_t seed = 0; seed < 30; ++seed) {
      LabeledImage s{RandomImage(100, 200, seed), BlockLabel(100, 200, {3, 7, 11, 255})};
      Rng rng(seed);
      LabeledImage out = ApplyTrainPipeline(s, config, rng);
      ASSERT_EQ(out.image.size(), cv::Size(96, 64));
      ASSERT_EQ(out.label.size(), cv::Size(96, 64));
      ASSERT_EQ(out.image.type(), CV_8UC3);
      for (int v : Values(out.label)) {
        EXPECT_TRUE(v == 3 || v == 7 || v == 11 || v == 255) << v;
      }
    }
  }
}

TEST(TransformsTest, PipelineIsAPureFunctionOfTheSeed) {
  TrainPipelineConfig config;
  config.scale = {256, 128};
  config.crop = {64, 64};
  LabeledImage s{RandomImage(100, 200, 1), BlockLabel(100, 200, {1, 2})};
  Rng a(42), b(42), c(43);
  LabeledImage x = ApplyTrainPipeline(s, config, a);
  LabeledImage y = ApplyTrainPipeline(s, config, b);
  LabeledImage z = ApplyTrainPipeline(s, config, c);
  EXPECT_EQ(cv::norm(x.image, y.image, cv::NORM_INF), 0);
  EXPECT_EQ(cv::norm(x.label, y.label, cv::NORM_INF), 0);
  EXPECT_GT(cv::norm(x.image, z.image, cv::NORM_INF), 0);
}

TEST(TransformsTest, FlipPadAndResize) {
  LabeledImage s{RandomImage(4, 6, 1), BlockLabel(4, 6, {1, 2, 3})};
  const LabeledImage original{s.image.clone(), s.label.clone()};
  Rng rng(0);
  RandomFlip(s, 1.0, rng);
  for (int x = 0; x < 6; ++x) {
    EXPECT_EQ(s.label.at<uint8_t>(2, x), original.label.at<uint8_t>(2, 5 - x));
    EXPECT_EQ(s.image.at<cv::Vec3b>(1, x), original.image.at<cv::Vec3b>(1, 5 - x));
  }
  RandomFlip(s, 0.0, rng);
  EXPECT_EQ(s.label.at<uint8_t>(0, 0), original.label.at<uint8_t>(0, 5));
  PadTo(s, {8, 5});
  ASSERT_EQ(s.image.size(), cv::Size(8, 5));
  EXPECT_EQ(s.label.at<uint8_t>(4, 0), 255);
  EXPECT_EQ(s.label.at<uint8_t>(0, 7), 255);
  EXPECT_EQ(s.image.at<cv::Vec3b>(4, 7), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(s.label.at<uint8_t>(0, 0), original.label.at<uint8_t>(0, 5));
  // Nearest-neighbour label resize introduces no new values.
  LabeledImage r{RandomImage(50, 70, 2), BlockLabel(50, 70, {4, 9})};
  ResizeTo(r, {123, 37});
  EXPECT_EQ(Values(r.label), (std::set<int>{4, 9}));
}

TEST(TransformsTest, PhotoMetricDistortionStaysInRangeAndVaries) {
  const cv::Mat base = RandomImage(20, 20, 5);
  int changed = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    cv::Mat image = base.clone();
    Rng rng(seed);
    PhotoMetricDistortion(image, rng);
    ASSERT_EQ(image.type(), CV_8UC3);
    changed += cv::norm(image, base, cv::NORM_INF) > 0;
  }
  // Each of the four steps is skipped with p = 0.5: all four skipped in about 1/16 of draws.
  EXPECT_GE(changed, 30);
  EXPECT_LT(changed, 40);
}

}  // namespace
}  // namespace ann
