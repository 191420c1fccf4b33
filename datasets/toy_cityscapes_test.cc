#include "datasets/toy_cityscapes.h"

#include <set>

#include "ann/data/cityscapes_labels.h"
#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(ToyCityscapesTest, ScenesAreDeterministicAndLabelledConsistently) {
  const ToyScene a = RenderToyScene(128, 64, 5);
  const ToyScene b = RenderToyScene(128, 64, 5);
  const ToyScene c = RenderToyScene(128, 64, 6);
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0);
  EXPECT_EQ(cv::norm(a.label_ids, b.label_ids, cv::NORM_INF), 0);
  EXPECT_GT(cv::norm(a.label_ids, c.label_ids, cv::NORM_L1), 0);
  ASSERT_EQ(a.image.size(), cv::Size(128, 64));
  ASSERT_EQ(a.instances.type(), CV_16UC1);

  const std::set<int> allowed = {1, 7, 8, 11, 21, 22, 23, 24, 26};
  std::set<int> seen;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    const ToyScene s = RenderToyScene(128, 64, seed);
    for (int y = 0; y < s.label_ids.rows; ++y) {
      for (int x = 0; x < s.label_ids.cols; ++x) {
        const int label = s.label_ids.at<uint8_t>(y, x);
        const int instance = s.instances.at<uint16_t>(y, x);
        ASSERT_TRUE(allowed.count(label)) << label;
        seen.insert(label);
        if (CityscapesLabels()[label].has_instances) {
          EXPECT_EQ(instance / 1000, label);
        } else {
          EXPECT_EQ(instance, label);
        }
      }
    }
  }
  EXPECT_EQ(seen, allowed);  // Every class shows up within a few scenes.
  // Sky is above road: the top row is sky or building/vegetation, never road.
  for (int x = 0; x < 128; ++x) EXPECT_NE(a.label_ids.at<uint8_t>(0, x), 7);
}

}  // namespace
}  // namespace ann
