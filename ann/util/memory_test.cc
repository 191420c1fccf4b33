#include "ann/util/memory.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace ann {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

fs::path TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  fs::path dir = fs::path(base != nullptr ? base : "/tmp") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(MemoryTest, MemAvailableIsReadInBytes) {
  EXPECT_EQ(MemAvailableBytes("MemTotal:       24576000 kB\nMemFree:         1000 kB\n"
                              "MemAvailable:   23533940 kB\nBuffers:  12 kB\n"),
            23533940.0 * 1024);
  EXPECT_TRUE(std::isinf(MemAvailableBytes("MemTotal: 1 kB\n")));
}

TEST(MemoryTest, CgroupV1TakesTheTightestAncestorLessItsWorkingSet) {
  const fs::path mnt = TempDir("v1");
  // The group /jobs/7 (limit 8 GB, 3 GB used of which 1 GB inactive file pages) inside /jobs
  // (limit 6 GB, 5.5 GB used): /jobs leaves 0.5 GB.
  Write(mnt / "jobs/7/memory.limit_in_bytes", "8000000000\n");
  Write(mnt / "jobs/7/memory.usage_in_bytes", "3000000000\n");
  Write(mnt / "jobs/7/memory.stat", "cache 5\ntotal_inactive_file 1000000000\n");
  Write(mnt / "jobs/memory.limit_in_bytes", "6000000000\n");
  Write(mnt / "jobs/memory.usage_in_bytes", "5500000000\n");
  Write(mnt / "jobs/memory.stat", "total_inactive_file 0\n");
  Write(mnt / "memory.limit_in_bytes", "9223372036854771712\n");
  const std::string mountinfo =
      "30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu\n"
      "31 25 0:27 / " +
      mnt.string() + " rw,relatime shared:10 - cgroup cgroup rw,memory\n";
  std::string where;
  EXPECT_EQ(CgroupHeadroomBytes("5:cpu:/\n4:memory:/jobs/7\n", mountinfo, &where), 0.5e9);
  EXPECT_EQ(where, (mnt / "jobs").string());
  // Without the parent's limit the group's own binds: 8 - (3 - 1) GB.
  Write(mnt / "jobs/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(CgroupHeadroomBytes("4:memory:/jobs/7\n", mountinfo, &where), 6e9);
  EXPECT_EQ(where, (mnt / "jobs/7").string());
}

TEST(MemoryTest, CgroupV2ReadsMemoryMaxAndAContainersOwnRoot) {
  const fs::path mnt = TempDir("v2");
  Write(mnt / "memory.max", "2147483648\n");
  Write(mnt / "memory.current", "1073741824\n");
  Write(mnt / "memory.stat", "anon 5\ninactive_file 536870912\n");
  // A container mounts its own group (/pod/c1) as the hierarchy's root.
  const std::string mountinfo =
      "40 30 0:40 /pod/c1 " + mnt.string() + " rw shared:5 - cgroup2 cgroup2 rw\n";
  std::string where;
  EXPECT_EQ(CgroupHeadroomBytes("0::/pod/c1\n", mountinfo, &where), 1.5 * 1073741824);
  EXPECT_EQ(where, mnt.string());
  Write(mnt / "memory.max", "max\n");
  EXPECT_TRUE(std::isinf(CgroupHeadroomBytes("0::/pod/c1\n", mountinfo, &where)));
  EXPECT_TRUE(std::isinf(CgroupHeadroomBytes("0::/\n", "", &where)));
}

TEST(MemoryTest, AddressSpaceLimitBindsWhenItIsTheSmallest) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_AS, &saved), 0);
  double pages = 0;
  std::ifstream("/proc/self/statm") >> pages;
  const double size = pages * sysconf(_SC_PAGE_SIZE);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(size + 300e6);
  ASSERT_EQ(setrlimit(RLIMIT_AS, &tight), 0);
  const MemoryHeadroom headroom = AvailableMemory();
  ASSERT_EQ(setrlimit(RLIMIT_AS, &saved), 0);
  EXPECT_EQ(headroom.limit, "ulimit -v");
  EXPECT_GT(headroom.bytes, 250e6);
  EXPECT_LT(headroom.bytes, 350e6);
  // Unlimited, the machine's or a group's headroom binds, and it is finite.
  const MemoryHeadroom free = AvailableMemory();
  EXPECT_NE(free.limit, "ulimit -v");
  EXPECT_TRUE(std::isfinite(free.bytes));
}

}  // namespace
}  // namespace ann
