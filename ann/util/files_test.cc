#include "ann/util/files.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(FilesTest, ListsBySuffixSortedOptionallyRecursive) {
  const std::string dir = std::string(getenv("TEST_TMPDIR")) + "/files";
  std::filesystem::create_directories(dir + "/b/c");
  for (const char* name :
       {"/z.png", "/a.png", "/x.txt", "/.hidden.png", "/b/m.png", "/b/c/k.png"}) {
    std::ofstream(dir + name) << "x";
  }
  auto flat = ListFiles(dir, ".png", /*recursive=*/false);
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(*flat, (std::vector<std::string>{dir + "/a.png", dir + "/z.png"}));
  auto deep = ListFiles(dir, ".png", /*recursive=*/true);
  ASSERT_TRUE(deep.ok());
  EXPECT_EQ(*deep, (std::vector<std::string>{dir + "/a.png", dir + "/b/c/k.png", dir + "/b/m.png",
                                             dir + "/z.png"}));
  auto all = ListFiles(dir, "", /*recursive=*/false);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto missing = ListFiles(dir + "/nope", ".png", true);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), dir + "/nope: no such directory");
}

TEST(FilesTest, SkippedFoldersAreNotScanned) {
  const std::string dir = std::string(getenv("TEST_TMPDIR")) + "/skip";
  std::filesystem::create_directories(dir + "/imgs/pred/deeper");
  std::filesystem::create_directories(dir + "/imgs/keep");
  for (const char* name :
       {"/imgs/a.png", "/imgs/keep/b.png", "/imgs/pred/a.png", "/imgs/pred/deeper/c.png"}) {
    std::ofstream(dir + name) << "x";
  }
  // The output folder given with another spelling (a trailing "/.", a "..") is still skipped.
  auto listed = ListFiles(dir + "/imgs", ".png", true, {dir + "/imgs/keep/../pred/."});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<std::string>{dir + "/imgs/a.png", dir + "/imgs/keep/b.png"}));
}

TEST(FilesTest, AnOutputFolderThatHoldsInputsIsRefused) {
  const std::string dir = std::string(getenv("TEST_TMPDIR")) + "/out";
  std::filesystem::create_directories(dir + "/imgs/sub");
  const std::vector<std::string> inputs = {dir + "/imgs/a.jpg", dir + "/imgs/sub/b.jpg"};
  EXPECT_TRUE(CheckOutputFolder("out_dir", "", inputs).ok());
  EXPECT_TRUE(CheckOutputFolder("out_dir", dir + "/pred", inputs).ok());
  EXPECT_TRUE(CheckOutputFolder("out_dir", dir, inputs).ok());  // a parent holds none directly
  absl::Status same = CheckOutputFolder("out_dir", dir + "/imgs/sub/../", inputs);
  EXPECT_EQ(same.message(), "--out_dir: " + dir + "/imgs/sub/../ holds the input " + dir +
                                "/imgs/a.jpg; write outputs elsewhere");
  EXPECT_FALSE(CheckOutputFolder("logits_dir", dir + "/imgs/sub", inputs).ok());
  EXPECT_TRUE(SameFolder(dir + "/imgs/", dir + "/imgs/sub/.."));
}

}  // namespace
}  // namespace ann
