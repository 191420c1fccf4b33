#include "ann/data/label_stats.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ann {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;

// freq(c) = pixels(c) / pixels of the images holding c; weight = median(freq) / freq(c).
TEST(LabelStatsTest, MedianFrequencyWeightsAreTheClosedForm) {
  SplitLabelStats stats;
  stats.images = 3;
  stats.pixels = {600, 100, 30, 0};
  stats.images_with = {3, 2, 1, 0};
  stats.pixels_of_images_with = {900, 600, 300, 0};
  // freq = 2/3, 1/6, 1/10 (class 3 absent: weight 1); median 1/6.
  EXPECT_THAT(MedianFrequencyWeights(stats),
              ElementsAre(FloatNear(0.25f, 1e-6), FloatNear(1.0f, 1e-6), FloatNear(5.0f / 3, 1e-6),
                          FloatNear(1.0f, 1e-6)));
}

TEST(LabelStatsTest, JsonAndTableHoldTheCounts) {
  DatasetInfo info;
  info.name = "mine";
  info.class_names = {"a", "bb"};
  SplitLabelStats train;
  train.images = 2;
  train.pixels = {30, 10};
  train.images_with = {2, 1};
  train.pixels_of_images_with = {45, 20};
  train.ignored_pixels = 5;
  train.images_with_ignored = 1;
  const Json json = LabelStatsJson(info, {{"train", train}});
  EXPECT_EQ(JsonLine(json),
            "{\"dataset\": \"mine\", \"classes\": [\"a\", \"bb\"], \"splits\": {\"train\": "
            "{\"images\": 2, \"ignored_pixels\": 5, \"images_with_ignored\": 1, \"pixels\": [30, "
            "10], \"images_with\": [2, 1]}}}");
  const std::string table = FormatLabelStats(info, {{"train", train}});
  EXPECT_THAT(table, ::testing::HasSubstr("bb" + std::string(20, ' ') + "10  22.22%       1"));
  // Ignored pixels count their own images (1, not the split's 2); the split's are on (all).
  EXPECT_THAT(table,
              ::testing::HasSubstr("(ignored)" + std::string(14, ' ') + "5  11.11%       1"));
  EXPECT_THAT(table, ::testing::HasSubstr("(all)" + std::string(17, ' ') + "45 100.00%       2"));
}

}  // namespace
}  // namespace ann
