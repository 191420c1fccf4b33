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

// As mmcv's scandir: links to folders are followed (each link path listed as it is reached), a
// link to a file is a file, a dangling link is nothing, and a link back to an ancestor is refused.
TEST(FilesTest, LinkedFoldersAreFollowedAndLoopsRefused) {
  namespace fs = std::filesystem;
  const std::string dir = std::string(getenv("TEST_TMPDIR")) + "/links";
  fs::create_directories(dir + "/imgs/real");
  fs::create_directories(dir + "/elsewhere/deep");
  for (const char* name : {"/imgs/a.png", "/imgs/real/b.png", "/elsewhere/c.png",
                           "/elsewhere/deep/d.png", "/elsewhere/e.txt"}) {
    std::ofstream(dir + name) << "x";
  }
  fs::create_directory_symlink(dir + "/elsewhere", dir + "/imgs/linked");
  fs::create_symlink(dir + "/elsewhere/c.png", dir + "/imgs/f.png");
  fs::create_symlink(dir + "/nowhere.png", dir + "/imgs/dangling.png");
  auto listed = ListFiles(dir + "/imgs", ".png", /*recursive=*/true);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, (std::vector<std::string>{
                         dir + "/imgs/a.png", dir + "/imgs/f.png", dir + "/imgs/linked/c.png",
                         dir + "/imgs/linked/deep/d.png", dir + "/imgs/real/b.png"}));
  // Not recursive: the linked folder is not entered.
  auto flat = ListFiles(dir + "/imgs", ".png", /*recursive=*/false);
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(flat->size(), 2u);
  // A loop: elsewhere/deep/up -> elsewhere.
  fs::create_directory_symlink(dir + "/elsewhere", dir + "/elsewhere/deep/up");
  auto loop = ListFiles(dir + "/imgs", ".png", /*recursive=*/true);
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.status().message(),
            dir +
                "/imgs/linked/deep/up: a link back to a folder that holds it (a loop); remove "
                "the link or point it elsewhere");
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
