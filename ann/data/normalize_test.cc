#include "ann/data/normalize.h"

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(NormalizeTest, ConvertsBgrAndStandardises) {
  cv::Mat image(1, 2, CV_8UC3, cv::Scalar(0, 0, 0));
  image.at<cv::Vec3b>(0, 0) = {10, 20, 200};  // B, G, R
  torch::Tensor x = NormalizeImage(image, DefaultNormalizeParams(Variant::kMmseg));
  ASSERT_EQ(x.sizes(), torch::IntArrayRef({1, 3, 1, 2}));
  EXPECT_EQ(x[0][0][0][0].item<float>(), (200 - 123.675f) / 58.395f);  // R first
  EXPECT_EQ(x[0][1][0][0].item<float>(), (20 - 116.28f) / 57.12f);
  EXPECT_EQ(x[0][2][0][0].item<float>(), (10 - 103.53f) / 57.375f);
  EXPECT_EQ(x[0][0][0][1].item<float>(), (0 - 123.675f) / 58.395f);
  // The authors' variant: BGR kept, the exact torchcv mean, unit std.
  torch::Tensor y = NormalizeImage(image, DefaultNormalizeParams(Variant::kOriginal));
  EXPECT_EQ(y[0][0][0][0].item<float>(), 10 - 102.9801f);
  EXPECT_EQ(y[0][2][0][1].item<float>(), 0 - 122.7717f);
}

TEST(NormalizeTest, IntoPlanesMatchesImage) {
  cv::Mat image(5, 7, CV_8UC3);
  cv::randu(image, 0, 256);
  NormalizeParams params;
  params.mean = {1.5, -20.25, 130};
  params.std = {0.5, 3, 70};
  std::vector<float> planes(3 * 5 * 7);
  NormalizeInto(image, params, planes.data());
  torch::Tensor x = NormalizeImage(image, params);
  EXPECT_TRUE(torch::equal(x.flatten(), torch::from_blob(planes.data(), {105})));
}

}  // namespace
}  // namespace ann
