#include "ann/data/dataset_file.h"

#include "gtest/gtest.h"

namespace ann {
namespace {

absl::StatusOr<DatasetInfo> Parse(const std::string& text) {
  return ParseDatasetDescription(text, "my.json");
}

TEST(DatasetFileTest, ReadsMmsegCustomDatasetFields) {
  auto info = Parse(R"({
    "classes": ["background", "crack", "spall"],
    "palette": [[0, 0, 0], [255, 0, 0], [0, 0, 255]],
    "img_dir": "images", "ann_dir": "masks", "img_suffix": ".JPG",
    "instance_suffix": "_instances.png",
    "reduce_zero_label": false, "ignore_index": 200,
    "train": {"split": "splits/train.txt"},
    "val": [{"split": "splits/val.txt"}, {"img_dir": "extra", "ann_dir": "extra_masks"}]
  })");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->kind, DatasetKind::kCustom);
  EXPECT_EQ(info->name, "my");
  EXPECT_EQ(info->class_names.size(), 3u);
  EXPECT_EQ(info->palette[1], (Rgb{255, 0, 0}));
  EXPECT_EQ(info->img_suffix, ".JPG");
  EXPECT_EQ(info->seg_map_suffix, ".png");
  EXPECT_EQ(info->instance_suffix, "_instances.png");
  EXPECT_EQ(info->ignore_index, 200);
  EXPECT_EQ(info->max_stored_label(), 2);
  ASSERT_EQ(info->splits.size(), 2u);
  EXPECT_EQ(info->splits[0].first, "train");
  EXPECT_EQ(info->splits[0].second[0].img_dir, "images");
  EXPECT_EQ(info->splits[0].second[0].split_file, "splits/train.txt");
  ASSERT_EQ(info->splits[1].second.size(), 2u);
  EXPECT_EQ(info->splits[1].second[1].ann_dir, "extra_masks");
  EXPECT_EQ(info->splits[1].second[1].split_file, "");
}

TEST(DatasetFileTest, MistakesAreOneLineNamingTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"classes": ["a"], "img_dir": "i", "ann_dir": "m", "train": {}, "reduce_zero_lable": true})",
       "my.json: reduce_zero_lable: unknown field"},
      {R"({"img_dir": "i", "ann_dir": "m", "train": {}})", "my.json: classes: a list"},
      {R"({"classes": ["a", "a"], "img_dir": "i", "ann_dir": "m", "train": {}})",
       "my.json: classes: 'a' is listed twice"},
      {R"({"classes": ["a", "b"], "palette": [[1, 2, 3]], "img_dir": "i", "ann_dir": "m",
           "train": {}})",
       "my.json: palette: must list one [R, G, B] per class (2)"},
      {R"({"classes": ["a", "b"], "palette": [[1, 2, 3], [1, 2, 3]], "img_dir": "i",
           "ann_dir": "m", "train": {}})",
       "my.json: palette: two classes share a colour"},
      {R"({"classes": ["a"], "img_dir": "i", "train": {}})",
       "my.json: train.img_dir: img_dir and ann_dir"},
      {R"({"classes": ["a"], "img_dir": "i", "ann_dir": "m", "train": {"spilt": "x"}})",
       "my.json: train.spilt: unknown field"},
      {R"({"classes": ["a"], "img_dir": "i", "ann_dir": "m"})", "my.json: train: no split"},
      {R"({"classes": ["a", "b", "c"], "ignore_index": 2, "img_dir": "i", "ann_dir": "m",
           "train": {}})",
       "my.json: classes: 3 classes (stored 0..2) do not fit below ignore_index 2"},
      {R"({"classes": ["a", "b"], "reduce_zero_label": true, "ignore_index": 250,
           "img_dir": "i", "ann_dir": "m", "train": {}})",
       "my.json: ignore_index: 250 with reduce_zero_label: mmseg reduces the labels first (0 -> "
       "255, v -> v-1) and then ignores 250 among the reduced values, so it would ignore stored "
       "251 and count stored 0 and 250 as no class against every prediction; store the pixels "
       "to ignore as 0 and leave ignore_index out (255)"},
      {"[1, 2]", "my.json: not a JSON object"},
  };
  for (const auto& [text, expected] : cases) {
    auto info = Parse(text);
    ASSERT_FALSE(info.ok()) << text;
    EXPECT_EQ(std::string(info.status().message()).rfind(expected, 0), 0u)
        << info.status().message() << "\n  expected: " << expected;
  }
}

}  // namespace
}  // namespace ann
