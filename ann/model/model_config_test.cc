#include "ann/model/model_config.h"

#include "gflags/gflags.h"
#include "gtest/gtest.h"

DECLARE_int32(depth);
DECLARE_string(variant);
DECLARE_string(pool_scales);
DECLARE_string(align_corners);

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
}

TEST_F(ModelConfigFlagsTest, OriginalVariantDefaults) {
  FLAGS_variant = "original";
  auto config = ModelConfigFromFlags();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->align_corners);
  EXPECT_EQ(*VariantFromFlags(), Variant::kOriginal);
  EXPECT_EQ(config->stem_channels(), 128);
  EXPECT_EQ(config->auxiliary_channels(), 512);
}

TEST_F(ModelConfigFlagsTest, ExplicitOverrides) {
  FLAGS_pool_scales = "1,2";
  FLAGS_align_corners = "true";
  auto config = ModelConfigFromFlags();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->pool_scales, (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(config->align_corners);
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
  FLAGS_align_corners = "yes";
  FLAGS_pool_scales = "1";
  EXPECT_FALSE(ModelConfigFromFlags().ok());
}

}  // namespace
}  // namespace ann
