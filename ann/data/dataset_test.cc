#include "ann/data/dataset.h"

#include <filesystem>
#include <fstream>

#include "ann/io/image.h"
#include "gtest/gtest.h"
#include "opencv2/core.hpp"
#include "tests/testing.h"

namespace ann {
namespace {

TEST(DatasetTest, ReduceZeroLabel) {
  cv::Mat label = (cv::Mat_<uint8_t>(1, 5) << 0, 1, 2, 150, 255);
  ReduceZeroLabel(label);
  const uint8_t expected[] = {255, 0, 1, 149, 255};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(label.at<uint8_t>(0, i), expected[i]);
}

TEST(DatasetTest, InfosHaveTheirClassCounts) {
  EXPECT_EQ(GetDatasetInfo(DatasetKind::kCityscapes).class_names.size(), 19u);
  EXPECT_EQ(GetDatasetInfo(DatasetKind::kAde20k).class_names.size(), 150u);
  EXPECT_EQ(GetDatasetInfo(DatasetKind::kVocAug).class_names.size(), 21u);
  EXPECT_EQ(GetDatasetInfo(DatasetKind::kPascalContext).class_names.size(), 59u);
  EXPECT_TRUE(GetDatasetInfo(DatasetKind::kAde20k).reduce_zero_label);
  EXPECT_TRUE(GetDatasetInfo(DatasetKind::kPascalContext).reduce_zero_label);
  EXPECT_FALSE(GetDatasetInfo(DatasetKind::kVocAug).reduce_zero_label);
  // VOC's bit-interleaved palette: 1 = (128, 0, 0), 15 (person) = (192, 128, 128).
  EXPECT_EQ(GetDatasetInfo(DatasetKind::kVocAug).palette[1], (Rgb{128, 0, 0}));
  EXPECT_EQ(GetDatasetInfo(DatasetKind::kVocAug).palette[15], (Rgb{192, 128, 128}));
  EXPECT_FALSE(ParseDatasetKind("coco").ok());
  EXPECT_EQ(*ParseDatasetKind("toy_cityscapes"), DatasetKind::kCityscapes);
}

TEST(DatasetTest, LoadLabelAppliesReduceZeroLabelAndRejectsBadFiles) {
  const std::string dir = testing::MakeTempDir("labels");
  cv::Mat label = (cv::Mat_<uint8_t>(2, 2) << 0, 1, 150, 255);
  ASSERT_TRUE(WriteImage(dir + "/ade.png", label).ok());
  auto ade = LoadLabel(dir + "/ade.png", GetDatasetInfo(DatasetKind::kAde20k));
  ASSERT_TRUE(ade.ok()) << ade.status();
  EXPECT_EQ(ade->at<uint8_t>(0, 0), 255);
  EXPECT_EQ(ade->at<uint8_t>(0, 1), 0);
  EXPECT_EQ(ade->at<uint8_t>(1, 0), 149);
  EXPECT_EQ(ade->at<uint8_t>(1, 1), 255);
  // 150 is not a Cityscapes trainId.
  auto city = LoadLabel(dir + "/ade.png", GetDatasetInfo(DatasetKind::kCityscapes));
  ASSERT_FALSE(city.ok());
  EXPECT_NE(std::string(city.status().message()).find("label value 150"), std::string::npos);
  cv::Mat color(2, 2, CV_8UC3, cv::Scalar(1, 2, 3));
  ASSERT_TRUE(WriteImage(dir + "/color.png", color).ok());
  auto bad = LoadLabel(dir + "/color.png", GetDatasetInfo(DatasetKind::kCityscapes));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("color.png: label must be"),
            std::string::npos);
}

TEST(DatasetTest, ListsCityscapesFromTheListOrByScanning) {
  namespace fs = std::filesystem;
  const std::string root = testing::MakeTempDir("cs");
  for (const std::string id : {"b/b_000001_000002", "a/a_000000_000001"}) {
    fs::create_directories(fs::path(root) / "leftImg8bit/val" / fs::path(id).parent_path());
    std::ofstream(root + "/leftImg8bit/val/" + id + "_leftImg8bit.png") << "x";
  }
  auto scanned = ListSamples(DatasetKind::kCityscapes, root, "val");
  ASSERT_TRUE(scanned.ok()) << scanned.status();
  ASSERT_EQ(scanned->size(), 2u);
  EXPECT_EQ((*scanned)[0].id, "a/a_000000_000001");
  EXPECT_EQ((*scanned)[0].label, root + "/gtFine/val/a/a_000000_000001_gtFine_labelTrainIds.png");
  std::ofstream(root + "/val.txt") << "b/b_000001_000002\n";
  auto listed = ListSamples(DatasetKind::kCityscapes, root, "val");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, "b/b_000001_000002");
  auto missing = ListSamples(DatasetKind::kCityscapes, root, "train");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("leftImg8bit/train: no such directory"),
            std::string::npos);
  EXPECT_FALSE(ListSamples(DatasetKind::kCityscapes, root, "valid").ok());
}

}  // namespace
}  // namespace ann
