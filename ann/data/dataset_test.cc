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

// The built-in datasets are descriptions (ann/data/datasets/*.json) with mmseg's values: class
// names in order (cityscapes.py, ade.py, voc.py, pascal_context.py), palettes, suffixes, splits.
TEST(DatasetTest, BuiltinDescriptionsHoldMmsegsDatasets) {
  const DatasetInfo& cityscapes = GetDatasetInfo(DatasetKind::kCityscapes);
  EXPECT_EQ(cityscapes.kind, DatasetKind::kCityscapes);
  EXPECT_EQ(cityscapes.class_names.front(), "road");
  EXPECT_EQ(cityscapes.class_names[11], "person");
  EXPECT_EQ(cityscapes.class_names.back(), "bicycle");
  EXPECT_EQ(cityscapes.palette[0], (Rgb{128, 64, 128}));
  EXPECT_EQ(cityscapes.palette[18], (Rgb{119, 11, 32}));
  EXPECT_EQ(cityscapes.img_suffix, "_leftImg8bit.png");
  EXPECT_EQ(cityscapes.seg_map_suffix, "_gtFine_labelTrainIds.png");
  EXPECT_EQ(cityscapes.instance_suffix, "_gtFine_instanceIds.png");
  ASSERT_EQ(cityscapes.splits.size(), 3u);
  EXPECT_EQ(cityscapes.splits[2].first, "test");
  EXPECT_EQ(cityscapes.splits[2].second[0].img_dir, "leftImg8bit/test");
  EXPECT_TRUE(cityscapes.splits[2].second[0].labels_optional);
  EXPECT_FALSE(cityscapes.splits[0].second[0].labels_optional);

  const DatasetInfo& ade = GetDatasetInfo(DatasetKind::kAde20k);
  EXPECT_EQ(ade.kind, DatasetKind::kAde20k);
  EXPECT_EQ(ade.class_names.front(), "wall");
  EXPECT_EQ(ade.class_names[12], "person");
  EXPECT_EQ(ade.class_names.back(), "flag");
  EXPECT_EQ(ade.img_suffix, ".jpg");
  EXPECT_EQ(ade.splits[1].second[0].ann_dir, "annotations/validation");

  const DatasetInfo& voc = GetDatasetInfo(DatasetKind::kVocAug);
  ASSERT_EQ(voc.splits[0].second.size(), 2u);  // train.txt + aug.txt
  EXPECT_EQ(voc.splits[0].second[1].ann_dir, "SegmentationClassAug");
  EXPECT_EQ(voc.splits[0].second[1].split_file, "ImageSets/Segmentation/aug.txt");
  EXPECT_EQ(voc.splits[0].second[0].img_dir, "JPEGImages");

  const DatasetInfo& context = GetDatasetInfo(DatasetKind::kPascalContext);
  EXPECT_EQ(context.class_names.front(), "aeroplane");
  EXPECT_EQ(context.class_names.back(), "wood");
  EXPECT_EQ(context.splits[1].second[0].split_file, "ImageSets/SegmentationContext/val.txt");
  EXPECT_EQ(context.palette, PaletteFor(59));
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

// Cityscapes is scanned as mmseg's CityscapesDataset scans it (split=None): every
// *_leftImg8bit.png under leftImg8bit/<split>, ordered by file name with its suffix ("a-b_..."
// before "a_...", though the id "a" sorts before "a-b"); a <split>.txt beside it is not read.
TEST(DatasetTest, ScansCityscapesAsMmsegDoes) {
  namespace fs = std::filesystem;
  const std::string root = testing::MakeTempDir("cs");
  for (const std::string id : {"b/b_000001_000002", "a/a", "a/a-b"}) {
    fs::create_directories(fs::path(root) / "leftImg8bit/val" / fs::path(id).parent_path());
    std::ofstream(root + "/leftImg8bit/val/" + id + "_leftImg8bit.png") << "x";
  }
  std::ofstream(root + "/val.txt") << "b/b_000001_000002\n";
  const DatasetInfo& cityscapes = GetDatasetInfo(DatasetKind::kCityscapes);
  auto scanned = ListSamples(cityscapes, root, "val");
  ASSERT_TRUE(scanned.ok()) << scanned.status();
  ASSERT_EQ(scanned->size(), 3u);
  EXPECT_EQ((*scanned)[0].id, "a/a-b");
  EXPECT_EQ((*scanned)[1].id, "a/a");
  EXPECT_EQ((*scanned)[1].label, root + "/gtFine/val/a/a_gtFine_labelTrainIds.png");
  EXPECT_EQ((*scanned)[2].id, "b/b_000001_000002");
  auto missing = ListSamples(cityscapes, root, "train");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("leftImg8bit/train: no such directory"),
            std::string::npos);
  EXPECT_FALSE(ListSamples(cityscapes, root, "valid").ok());
  auto no_test = ListSamples(GetDatasetInfo(DatasetKind::kAde20k), root, "test");
  ASSERT_FALSE(no_test.ok());
  EXPECT_EQ(no_test.status().message(), "ade20k has no 'test' split (it has train, val)");
}

// mmseg's VOC aug config: train = train.txt labelled from SegmentationClass, then aug.txt from
// SegmentationClassAug; val = val.txt from SegmentationClass.
TEST(DatasetTest, VocAugTrainsOnTrainAndAugEachWithItsOwnLabels) {
  const std::string root = testing::MakeTempDir("voc");
  std::filesystem::create_directories(root + "/ImageSets/Segmentation");
  std::ofstream(root + "/ImageSets/Segmentation/train.txt") << "2007_000032\n";
  std::ofstream(root + "/ImageSets/Segmentation/aug.txt") << "2008_000002\n2008_000003\n";
  std::ofstream(root + "/ImageSets/Segmentation/val.txt") << "2007_000033\n";
  const DatasetInfo& voc = GetDatasetInfo(DatasetKind::kVocAug);
  auto train = ListSamples(voc, root, "train");
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_EQ(train->size(), 3u);
  EXPECT_EQ((*train)[0].label, root + "/SegmentationClass/2007_000032.png");
  EXPECT_EQ((*train)[1].label, root + "/SegmentationClassAug/2008_000002.png");
  EXPECT_EQ((*train)[2].image, root + "/JPEGImages/2008_000003.jpg");
  auto val = ListSamples(voc, root, "val");
  ASSERT_TRUE(val.ok());
  ASSERT_EQ(val->size(), 1u);
  EXPECT_EQ((*val)[0].label, root + "/SegmentationClass/2007_000033.png");
}

}  // namespace
}  // namespace ann
