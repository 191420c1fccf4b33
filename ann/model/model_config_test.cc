#include "ann/model/model_config.h"

#include "gflags/gflags.h"
#include "gtest/gtest.h"

DECLARE_int32(depth);
DECLARE_string(variant);
DECLARE_string(pool_scales);
DECLARE_string(align_corners);
DECLARE_string(mean);

namespace ann {
namespace {

class ModelConfigFlagsTest : public ::testing::Test {
 protected:
  gflags::FlagSaver saver_;
};

TEST_F(ModelConfigFlagsTest, DefaultsAreMmsegR50) {
  auto config = ModelConfigFromFlags();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->variant, Variant::kMmseg);
  EXPECT_EQ(config->depth, 50);
  EXPECT_EQ(config->pool_scales, (std::vector<int64_t>{1, 3, 6, 8}));
  EXPECT_FALSE(config->align_corners);
  EXPECT_TRUE(config->to_rgb);
  EXPECT_DOUBLE_EQ(config->mean[0], 123.675);
  EXPECT_DOUBLE_EQ(config->std[2], 57.375);
}

TEST_F(ModelConfigFlagsTest, OriginalVariantDefaults) {
  FLAGS_variant = "original";
  auto config = ModelConfigFromFlags();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->align_corners);
  EXPECT_FALSE(config->to_rgb);
  EXPECT_DOUBLE_EQ(config->mean[0], 102.9801);
  EXPECT_DOUBLE_EQ(config->mean[1], 115.9465);
  EXPECT_DOUBLE_EQ(config->mean[2], 122.7717);
  EXPECT_DOUBLE_EQ(config->std[0], 1.0);
  EXPECT_EQ(config->stem_channels(), 128);
  EXPECT_EQ(config->auxiliary_channels(), 512);
}

TEST_F(ModelConfigFlagsTest, ExplicitOverrides) {
  FLAGS_pool_scales = "1,2";
  FLAGS_align_corners = "true";
  FLAGS_mean = "1,2,3";
  auto config = ModelConfigFromFlags();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->pool_scales, (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(config->align_corners);
  EXPECT_DOUBLE_EQ(config->mean[2], 3.0);
}

TEST_F(ModelConfigFlagsTest, RejectsBadValues) {
  FLAGS_depth = 42;
  EXPECT_FALSE(ModelConfigFromFlags().ok());
  FLAGS_depth = 50;
  FLAGS_variant = "psp";
  EXPECT_FALSE(ModelConfigFromFlags().ok());
  FLAGS_variant = "mmseg";
  FLAGS_pool_scales = "1,x";
  EXPECT_FALSE(ModelConfigFromFlags().ok());
  FLAGS_pool_scales = "1,0";
  EXPECT_FALSE(ModelConfigFromFlags().ok());
  FLAGS_pool_scales = "1";
  FLAGS_mean = "1,2";
  EXPECT_FALSE(ModelConfigFromFlags().ok());
}

}  // namespace
}  // namespace ann
