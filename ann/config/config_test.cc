#include "ann/config/config.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "gflags/gflags.h"
#include "gtest/gtest.h"

DECLARE_double(lr);

namespace ann {
namespace {

// The list a flagfile may use in any tool equals what the four config libraries define.
TEST(ConfigTest, AllConfigFlagsListsEveryPartsFlags) {
  // Reference every part so that all four are linked into this test.
  ASSERT_TRUE((LoadConfig<kModelPart | kDataPart | kTrainPart | kTestPart>().ok()));
  std::vector<gflags::CommandLineFlagInfo> flags;
  gflags::GetAllFlags(&flags);
  std::set<std::string> defined;
  for (const auto& f : flags) {
    for (const char* file : {"ann/model/model_config.cc", "ann/data/data_config.cc",
                             "ann/train/train_config.cc", "ann/eval/test_config.cc"}) {
      if (absl::EndsWith(f.filename, file)) defined.insert(f.name);
    }
  }
  const std::vector<std::string>& listed = AllConfigFlags();
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), defined);
  EXPECT_EQ(listed.size(), defined.size());  // no duplicates
}

TEST(ConfigTest, OnlyRequestedPartsAreValidated) {
  FLAGS_lr = -1;                                             // a bad training value...
  EXPECT_TRUE((LoadConfig<kModelPart | kTestPart>().ok()));  // ...does not block inference
  auto train = LoadConfig<kTrainPart>();
  ASSERT_FALSE(train.ok());
  EXPECT_EQ(train.status().message(), "--lr: must be a positive number");
  FLAGS_lr = 0.01;
}

}  // namespace
}  // namespace ann
