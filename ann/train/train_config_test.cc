#include "ann/train/train_config.h"

#include "gflags/gflags.h"
#include "gtest/gtest.h"

DECLARE_string(crop_size);
DECLARE_string(ratio_range);
DECLARE_string(train_precision);
DECLARE_string(class_weight);
DECLARE_string(loss);
DECLARE_double(lr);

namespace ann {
namespace {

class TrainConfigFlagsTest : public ::testing::Test {
 protected:
  gflags::FlagSaver saver_;
};

TEST_F(TrainConfigFlagsTest, DefaultsAreMmsegsCityscapesRecipe) {
  absl::StatusOr<TrainConfig> c = TrainConfigFromFlags(ModelConfig());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pipeline.variant, Variant::kMmseg);
  EXPECT_EQ(c->pipeline.crop, cv::Size(1024, 512));
  EXPECT_EQ(c->pipeline.scale, cv::Size(2048, 1024));
  EXPECT_DOUBLE_EQ(c->pipeline.ratio_lo, 0.5);
  EXPECT_DOUBLE_EQ(c->pipeline.ratio_hi, 2.0);
  EXPECT_EQ(c->max_iters, 40000);
  EXPECT_DOUBLE_EQ(c->lr, 0.01);
  EXPECT_EQ(c->precision, Precision::kFp32);
  EXPECT_EQ(c->loss, TrainConfig::Loss::kCrossEntropy);
}

TEST_F(TrainConfigFlagsTest, ThePipelineFollowsTheModelsVariant) {
  ModelConfig original;
  original.variant = Variant::kOriginal;
  FLAGS_crop_size = "769x513";
  FLAGS_train_precision = "fp64";
  FLAGS_loss = "ohem";
  absl::StatusOr<TrainConfig> c = TrainConfigFromFlags(original);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pipeline.variant, Variant::kOriginal);
  EXPECT_EQ(c->pipeline.crop, cv::Size(769, 513));
  EXPECT_EQ(c->precision, Precision::kFp64);
  EXPECT_EQ(c->loss, TrainConfig::Loss::kOhem);
}

TEST_F(TrainConfigFlagsTest, BadValuesNameTheirFlag) {
  FLAGS_lr = -1;
  EXPECT_EQ(TrainConfigFromFlags(ModelConfig()).status().message(),
            "--lr: must be a positive number");
  FLAGS_lr = 0.01;
  FLAGS_ratio_range = "2,1";
  EXPECT_EQ(TrainConfigFromFlags(ModelConfig()).status().message().substr(0, 14), "--ratio_range:");
  FLAGS_ratio_range = "0.5,2";
  FLAGS_train_precision = "int8";  // an inference precision only
  EXPECT_EQ(TrainConfigFromFlags(ModelConfig()).status().message().substr(0, 18),
            "--train_precision:");
  FLAGS_train_precision = "fp32";
  FLAGS_class_weight = "1,2";  // 19 classes
  EXPECT_EQ(TrainConfigFromFlags(ModelConfig()).status().message().substr(0, 15),
            "--class_weight:");
}

}  // namespace
}  // namespace ann
