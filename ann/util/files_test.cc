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

}  // namespace
}  // namespace ann
