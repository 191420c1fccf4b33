#include "ann/util/runtime.h"

#include <stdlib.h>
#include <sys/resource.h>

#include <fstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

TEST(ThreadsTest, ZeroMeansAllCores) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  EXPECT_EQ(SetNumThreads(0), cores);
  EXPECT_EQ(torch::get_num_threads(), cores);
}

TEST(ThreadsTest, ExplicitCount) {
  EXPECT_EQ(SetNumThreads(1), 1);
  EXPECT_EQ(torch::get_num_threads(), 1);
}

long MinorFaults() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

constexpr int64_t kFloats = 16 << 20;  // a 64 MB feature map: 16384 pages of 4 KB
constexpr long kPages = kFloats * 4 / 4096;

// Page faults taken by allocating and writing a 64 MB tensor after an equal one was freed, as
// every training step and forward does with its feature maps.
long FaultsOfReallocation() {
  torch::empty({kFloats}).fill_(1);  // allocated, touched, freed
  const long before = MinorFaults();
  torch::Tensor t = torch::empty({kFloats});
  t.fill_(2);
  return MinorFaults() - before;
}

bool TransparentHugePagesAlways() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(in, line);
  return line.find("[always]") != std::string::npos;
}

TEST(MemoryTest, FreedTensorsArePagesReused) {
  // The user's own malloc tunables win: nothing changes and the block is faulted in afresh.
  setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=7", 1);
  EXPECT_FALSE(KeepFreedMemory());
  const long default_faults = FaultsOfReallocation();
  // With transparent huge pages always on, fresh mappings fault per 2 MB instead of 4 KB.
  if (!TransparentHugePagesAlways()) {
    EXPECT_GE(default_faults, kPages / 2);
  }

  unsetenv("GLIBC_TUNABLES");
  EXPECT_TRUE(KeepFreedMemory());
  FaultsOfReallocation();  // the first block under the new settings lands on the heap
  const long kept_faults = FaultsOfReallocation();
  EXPECT_LT(kept_faults, kPages / 100) << "default: " << default_faults;
}

}  // namespace
}  // namespace ann
