#include "ann/train/launcher.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"

// LaunchLocalRanks starts this very binary (/proc/self/exe) once per rank with --rank=R
// --world_size=N --dist_port=P --nproc=1 appended: main() then plays a rank, as ann_train would.
namespace {

constexpr char kDirVariable[] = "LAUNCHER_TEST_DIR";
constexpr char kModeVariable[] = "LAUNCHER_TEST_MODE";

// A rank: writes its arguments to $LAUNCHER_TEST_DIR/rank<R>; mode "fail": rank 2 exits 3
// (after the others wrote theirs);
// mode "hang": rank 1 exits 5 at once, the others would run for a minute.
int RunAsRank(int argc, char** argv) {
  std::string rank, args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--rank=", 0) == 0) rank = a.substr(7);
    args += (i > 1 ? " " : "") + a;
  }
  const char* dir = std::getenv(kDirVariable);
  const std::string mode = std::getenv(kModeVariable) ? std::getenv(kModeVariable) : "";
  if (dir != nullptr) std::ofstream(std::string(dir) + "/rank" + rank) << args << "\n";
  if (mode == "fail" && rank == "2") {
    // Fails once the others have written theirs (the failure stops them).
    for (int i = 0; i < 1000; ++i) {
      if (std::filesystem::exists(std::string(dir) + "/rank0") &&
          std::filesystem::exists(std::string(dir) + "/rank1")) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 3;
  }
  if (mode == "hang") {
    if (rank == "1") return 5;
    std::this_thread::sleep_for(std::chrono::seconds(60));
  }
  return 0;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

namespace ann {
namespace {

TEST(LauncherTest, RunsEveryRankWithItsArgumentsAndReturnsTheWorstStatus) {
  const std::string dir = ::testing::TempDir() + "/launcher_test_ranks";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  setenv(kDirVariable, dir.c_str(), 1);
  setenv(kModeVariable, "fail", 1);
  EXPECT_EQ(LaunchLocalRanks({"launcher_test", "--as_rank"}, 3, 29517), 3);
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(
        ReadAll(dir + "/rank" + std::to_string(r)),
        "--as_rank --rank=" + std::to_string(r) + " --world_size=3 --dist_port=29517 --nproc=1\n");
  }
  std::filesystem::remove_all(dir);
}

// The first failure stops the others (SIGTERM): ranks that would run for a minute end at once.
TEST(LauncherTest, OneFailingRankStopsTheOthers) {
  unsetenv(kDirVariable);
  setenv(kModeVariable, "hang", 1);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(LaunchLocalRanks({"launcher_test", "--as_rank"}, 3, 0), 5);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(LauncherTest, RanksAfterTheFirstStaySilentOnAStop) {
  EXPECT_EQ(RankExitCode(absl::OkStatus(), 1), 0);
  EXPECT_NE(RankExitCode(absl::InternalError("x"), 1), 0);
  EXPECT_NE(RankExitCode(absl::CancelledError("stopped by SIGINT at iteration 4"), 0), 0);
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--as_rank") return RunAsRank(argc, argv);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
