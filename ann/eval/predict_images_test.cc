#include "ann/eval/predict_images.h"

#include "gtest/gtest.h"

namespace ann {
namespace {

PredictOutput Labels(bool overlay = false) {
  PredictOutput output;
  output.out_dir = "/tmp/pred";
  output.overlay = overlay;
  return output;
}

TEST(OutputNamesTest, StemsThenRelativePathsThenExtensions) {
  auto stems = OutputNames({"/d/a.png", "/d/sub/b.jpg"}, Labels());
  ASSERT_TRUE(stems.ok()) << stems.status();
  EXPECT_EQ(*stems, (std::vector<std::string>{"a", "b"}));
  // The same stem in two folders: paths relative to the common folder.
  auto folders = OutputNames({"/d/x/a.png", "/d/y/a.png"}, Labels());
  ASSERT_TRUE(folders.ok());
  EXPECT_EQ(*folders, (std::vector<std::string>{"x/a", "y/a"}));
  // The same stem in one folder (y.jpg 200x100, y.png 97x61): the extension is kept.
  auto extensions = OutputNames({"/d/y.jpg", "/d/y.png", "/d/z.png"}, Labels());
  ASSERT_TRUE(extensions.ok());
  EXPECT_EQ(*extensions, (std::vector<std::string>{"y_jpg", "y_png", "z"}));
}

TEST(OutputNamesTest, TwoImagesWritingOneFileAreRefusedNamingBoth) {
  // a.png's overlay is a_overlay.png, which a_overlay.jpg's labels would overwrite.
  auto overlay = OutputNames({"/d/a.png", "/d/a_overlay.jpg"}, Labels(/*overlay=*/true));
  ASSERT_FALSE(overlay.ok());
  EXPECT_EQ(overlay.status().message(),
            "/d/a.png and /d/a_overlay.jpg would both be written as "
            "/tmp/pred/a_overlay.png; rename one");
  EXPECT_TRUE(OutputNames({"/d/a.png", "/d/a_overlay.jpg"}, Labels(false)).ok());
  // y_jpg.png (an image's own name) against y.jpg's name kept apart by its extension.
  auto kept = OutputNames({"/d/y.jpg", "/d/y.png", "/d/y_jpg.png"}, Labels());
  ASSERT_FALSE(kept.ok());
  EXPECT_NE(kept.status().message().find("/tmp/pred/y_jpg.png"), std::string::npos);
}

TEST(OutputNamesTest, AnOutputFolderHoldingTheImagesIsAFlagError) {
  PredictOutput output = Labels();
  output.out_dir = "/d/";
  auto refused = OutputNames({"/d/a.png", "/d/b.png"}, output);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "--out_dir: /d/ holds the input /d/a.png; write outputs elsewhere");
  output.out_dir = "";
  output.logits_dir = "/d/sub/..";
  EXPECT_EQ(OutputNames({"/d/a.png"}, output).status().message(),
            "--logits_dir: /d/sub/.. holds the input /d/a.png; write outputs elsewhere");
}

}  // namespace
}  // namespace ann
