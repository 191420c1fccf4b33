#include "ann/data/cityscapes_labels.h"

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(CityscapesLabelsTest, LabelIdToTrainIdMatchesTheOfficialTable) {
  // (labelId, trainId) from cityscapesScripts' labels.py, written out independently.
  const int expected[][2] = {{7, 0},   {8, 1},   {11, 2},  {12, 3},  {13, 4},  {17, 5},  {19, 6},
                             {20, 7},  {21, 8},  {22, 9},  {23, 10}, {24, 11}, {25, 12}, {26, 13},
                             {27, 14}, {28, 15}, {31, 16}, {32, 17}, {33, 18}};
  const auto& table = LabelIdToTrainId();
  int mapped = 0;
  for (int id = 0; id < 256; ++id) {
    int want = 255;
    for (const auto& pair : expected) {
      if (pair[0] == id) want = pair[1];
    }
    EXPECT_EQ(table[id], want) << "labelId " << id;
    mapped += want != 255;
  }
  EXPECT_EQ(mapped, 19);
  for (const auto& pair : expected) EXPECT_EQ(TrainIdToLabelId()[pair[1]], pair[0]);
  EXPECT_EQ(TrainIdToLabelId()[255], 0);
}

TEST(CityscapesLabelsTest, NamesCategoriesAndInstanceClasses) {
  const std::vector<std::string> names = CityscapesClassNames();
  ASSERT_EQ(names.size(), 19u);
  EXPECT_EQ(names[0], "road");
  EXPECT_EQ(names[10], "sky");
  EXPECT_EQ(names[18], "bicycle");
  ASSERT_EQ(CityscapesCategoryNames().size(), 7u);
  const int category_of[19] = {0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 5, 6, 6, 6, 6, 6, 6};
  for (int t = 0; t < 19; ++t) EXPECT_EQ(CityscapesCategoryOfTrainId(t), category_of[t]) << t;
  for (int t = 0; t < 19; ++t) {
    EXPECT_EQ(CityscapesAverageInstanceSize(t) > 0, t >= 11) << t;
  }
  EXPECT_DOUBLE_EQ(CityscapesAverageInstanceSize(13), 12794.0202738185);
  EXPECT_EQ(CityscapesLabels().size(), 34u);
  for (int id = 0; id < 34; ++id) EXPECT_EQ(CityscapesLabels()[id].id, id);
}

}  // namespace
}  // namespace ann
