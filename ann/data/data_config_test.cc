#include "ann/data/data_config.h"

#include "gflags/gflags.h"
#include "gtest/gtest.h"

DECLARE_string(mean);
DECLARE_string(std);
DECLARE_string(to_rgb);
DECLARE_string(dataset);
DECLARE_string(train_split);

namespace ann {
namespace {

class DataConfigFlagsTest : public ::testing::Test {
 protected:
  gflags::FlagSaver saver_;
};

TEST_F(DataConfigFlagsTest, VariantDefaultsAndOverrides) {
  absl::StatusOr<DataConfig> data = DataConfigFromFlags(Variant::kMmseg);
  ASSERT_TRUE(data.ok()) << data.status();
  const NormalizeParams* mmseg = &data->normalize;
  EXPECT_TRUE(mmseg->to_rgb);
  EXPECT_DOUBLE_EQ(mmseg->mean[0], 123.675);
  EXPECT_DOUBLE_EQ(mmseg->std[2], 57.375);
  absl::StatusOr<DataConfig> original_data = DataConfigFromFlags(Variant::kOriginal);
  ASSERT_TRUE(original_data.ok());
  const NormalizeParams* original = &original_data->normalize;
  EXPECT_FALSE(original->to_rgb);
  EXPECT_DOUBLE_EQ(original->mean[0], 102.9801);
  EXPECT_DOUBLE_EQ(original->mean[1], 115.9465);
  EXPECT_DOUBLE_EQ(original->mean[2], 122.7717);
  EXPECT_DOUBLE_EQ(original->std[0], 1.0);

  FLAGS_mean = "1,2,3.5";
  FLAGS_to_rgb = "true";
  absl::StatusOr<DataConfig> given_data = DataConfigFromFlags(Variant::kOriginal);
  ASSERT_TRUE(given_data.ok());
  const NormalizeParams* given = &given_data->normalize;
  EXPECT_DOUBLE_EQ(given->mean[2], 3.5);
  EXPECT_TRUE(given->to_rgb);
  EXPECT_DOUBLE_EQ(given->std[1], 1.0);  // still the variant's
}

TEST_F(DataConfigFlagsTest, BadValuesNameTheirFlag) {
  FLAGS_mean = "1,2";
  EXPECT_EQ(DataConfigFromFlags(Variant::kMmseg).status().message().substr(0, 7), "--mean:");
  FLAGS_mean = "default";
  FLAGS_std = "1,0,1";
  EXPECT_EQ(DataConfigFromFlags(Variant::kMmseg).status().message(),
            "--std: values must be positive");
  FLAGS_std = "default";
  FLAGS_to_rgb = "maybe";
  EXPECT_EQ(DataConfigFromFlags(Variant::kMmseg).status().message().substr(0, 9), "--to_rgb:");
}

TEST_F(DataConfigFlagsTest, DatasetAndSplits) {
  absl::StatusOr<DataConfig> cityscapes = DataConfigFromFlags();
  ASSERT_TRUE(cityscapes.ok()) << cityscapes.status();
  EXPECT_EQ(cityscapes->info.name, "cityscapes");
  FLAGS_dataset = "voc12aug";
  FLAGS_train_split = "train,val";
  absl::StatusOr<DataConfig> voc = DataConfigFromFlags();
  ASSERT_TRUE(voc.ok()) << voc.status();
  EXPECT_EQ(voc->kind, DatasetKind::kVocAug);
  EXPECT_EQ(voc->train_splits, (std::vector<std::string>{"train", "val"}));
  FLAGS_train_split = "train,train";
  EXPECT_EQ(DataConfigFromFlags().status().message(), "--train_split: 'train' is listed twice");
}

}  // namespace
}  // namespace ann
