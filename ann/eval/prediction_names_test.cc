#include "ann/eval/prediction_names.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(PredictionNamesTest, StemsThenPathsRelativeToTheRootThenExtensions) {
  EXPECT_EQ(PredictionNames({"/d/a.png", "/d/sub/b.jpg"}),
            (std::vector<std::string>{"a", "b"}));
  // Repeated stems: relative to the common folder, or to the scanned root when given.
  EXPECT_EQ(PredictionNames({"/d/x/a.png", "/d/y/a.png"}),
            (std::vector<std::string>{"x/a", "y/a"}));
  EXPECT_EQ(PredictionNames({"/d/cam1/a/0001.jpg", "/d/cam1/b/0001.jpg"}, "/d"),
            (std::vector<std::string>{"cam1/a/0001", "cam1/b/0001"}));
  EXPECT_EQ(PredictionNames({"/d/0001.jpg", "/d/left/0001.jpg", "/d/right/0001.jpg"}, "/d/"),
            (std::vector<std::string>{"0001", "left/0001", "right/0001"}));
  // One folder holding one stem twice keeps the extensions.
  EXPECT_EQ(PredictionNames({"/d/y.jpg", "/d/y.png", "/d/z.png"}),
            (std::vector<std::string>{"y_jpg", "y_png", "z"}));
  EXPECT_EQ(CommonFolder({"/d/x/a.png", "/d/xy/b.png"}), "/d");
}

class FindPredictionsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(getenv("TEST_TMPDIR")) + "/" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  void Touch(const std::string& name) {
    std::filesystem::create_directories(std::filesystem::path(dir_ + "/" + name).parent_path());
    std::ofstream(dir_ + "/" + name) << "x";
  }
  std::string dir_;
};

TEST_F(FindPredictionsTest, FindsWhatTheSameRuleWrote) {
  Touch("pred/0001.png");
  Touch("pred/left/0001.png");
  Touch("pred/right/0001.png");
  const std::string imgs = dir_ + "/imgs";
  auto found = FindPredictions(dir_ + "/pred",
                               {imgs + "/0001.jpg", imgs + "/left/0001.jpg", imgs + "/right/0001.jpg"},
                               imgs);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, (std::vector<std::string>{dir_ + "/pred/0001.png", dir_ + "/pred/left/0001.png",
                                              dir_ + "/pred/right/0001.png"}));
  // A split with one of them: its stem is unique there, but the run over the whole folder wrote
  // it by its path, and 0001.png is another image's.
  auto clash = FindPredictions(dir_ + "/pred", {imgs + "/left/0001.jpg"}, imgs);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().message(),
            "--pred_dir: " + dir_ + "/pred/0001.png and " + dir_ +
                "/pred/left/0001.png could both be the prediction of " + imgs +
                "/left/0001.jpg (runs over different sets of images?); keep one");
  auto missing = FindPredictions(dir_ + "/pred", {imgs + "/cam2/0002.jpg"}, imgs);
  EXPECT_EQ(missing.status().message(), "--pred_dir: " + dir_ + "/pred/0002.png: no prediction for " +
                                            imgs + "/cam2/0002.jpg");
}

TEST_F(FindPredictionsTest, ARelativePathWrittenForASubsetIsFound) {
  Touch("pred/cam1/0001.png");
  const std::string imgs = dir_ + "/imgs";
  auto found = FindPredictions(dir_ + "/pred", {imgs + "/cam1/0001.jpg"}, imgs);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, std::vector<std::string>{dir_ + "/pred/cam1/0001.png"});
}

}  // namespace
}  // namespace ann
