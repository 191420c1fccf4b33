#include "ann/util/runtime.h"

#include <stdlib.h>
#include <sys/resource.h>

#include <fstream>
#include <string>
#include <thread>

#include "ATen/Version.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

// On a CPU with AVX-512 (F, BW, DQ, VL), LibTorch's kernels run at AVX-512 (chosen before
// main), unless the environment said otherwise before the process started.
TEST(CapabilityTest, Avx512IsChosenBeforeTheFirstTensorOperation) {
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  const std::string capability = CpuCapability();
  // LibTorch says what it dispatches to in its build summary.
  const bool dispatched_avx512 =
      at::show_config().find("CPU capability usage: AVX512") != std::string::npos;
  if (avx512 && capability == "avx512") {
    EXPECT_TRUE(dispatched_avx512) << at::show_config();
  }
  if (!avx512) {
    EXPECT_FALSE(dispatched_avx512);
  }
  if (avx512 && capability.empty()) ADD_FAILURE() << "AVX-512 CPU, but no capability chosen";
}

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
