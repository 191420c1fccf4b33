#include "ann/util/runtime.h"

#include <malloc.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "c10/core/Allocator.h"
#include "c10/core/CPUAllocator.h"
#include "gflags/gflags.h"
#include "torch/torch.h"

DEFINE_int32(threads, 0, "Intra-op threads for LibTorch; 0 = all cores.");
DEFINE_validator(threads, [](const char*, int32_t value) { return value >= 0; });
DEFINE_bool(keep_freed_memory, true,
            "Keep memory freed by tensors inside the process for the next ones (glibc malloc: "
            "no mmap, no heap trimming below 2 GB free) instead of returning it to the system: "
            "saves re-faulting the working set every step; the resident size stays at its "
            "peak. Ignored when GLIBC_TUNABLES sets glibc.malloc tunables.");

namespace ann {
namespace {

// Runs before main (see the file comment): static initialisation of this library.
const bool kCapabilityChosen = [] {
  if (std::getenv("ATEN_CPU_CAPABILITY") == nullptr && __builtin_cpu_supports("avx512f") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl")) {
    setenv("ATEN_CPU_CAPABILITY", "avx512", /*overwrite=*/0);
  }
  return true;
}();

}  // namespace

const char* CpuCapability() {
  (void)kCapabilityChosen;
  const char* value = std::getenv("ATEN_CPU_CAPABILITY");
  return value ? value : "";
}

const char kKeepFreedMemoryTunables[] =
    "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647";

int SetNumThreads(int threads) {
  if (threads <= 0) {
    threads = static_cast<int>(std::thread::hardware_concurrency());
    if (threads <= 0) threads = 1;
  }
  torch::set_num_threads(threads);
  return torch::get_num_threads();
}

namespace {

// LibTorch's CPU allocator with the 64-byte alignment done here on top of malloc instead of by
// posix_memalign. glibc serves memalign(a, n) from a free block of at least n + a + 32 bytes,
// so a block freed by one tensor could never serve the next tensor of the same size and the
// heap grew instead, page-faulting fresh memory every step. malloc(n + 64) asks for the same
// block size each time, which the freed one fits. The raw pointer is kept just below the
// aligned one, so LibTorch's raw_allocate (which oneDNN's scratchpads use through ideep) works:
// the data pointer is its own context.
class ReusingCpuAllocator final : public c10::Allocator {
 public:
  static constexpr size_t kAlignment = 64;  // c10::gAlignment

  c10::DataPtr allocate(size_t bytes) const override {
    void* aligned = nullptr;
    if (bytes > 0) {
      void* raw = std::malloc(bytes + kAlignment);
      // Worded as LibTorch's own allocator, which RunGuarded reports as out of memory.
      TORCH_CHECK(raw != nullptr,
                  "DefaultCPUAllocator: can't allocate memory: you tried to allocate ", bytes,
                  " bytes.");
      // The next multiple of 64 strictly above raw: at least 16 bytes above it (malloc aligns
      // to 16), room for the raw pointer.
      const uintptr_t address =
          (reinterpret_cast<uintptr_t>(raw) + kAlignment) & ~(uintptr_t{kAlignment} - 1);
      aligned = reinterpret_cast<void*>(address);
      static_cast<void**>(aligned)[-1] = raw;
    }
    return {aligned, aligned, &Free, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &Free; }

 private:
  static void Free(void* aligned) {
    if (aligned != nullptr) std::free(static_cast<void**>(aligned)[-1]);
  }
};

}  // namespace

bool KeepFreedMemory() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) return false;
  // mallopt returns 1 on success. M_TRIM_THRESHOLD also stops glibc's dynamic raising of the
  // mmap threshold, which M_MMAP_MAX = 0 makes moot.
  if (mallopt(M_MMAP_MAX, 0) != 1 || mallopt(M_TRIM_THRESHOLD, INT_MAX) != 1) return false;
  static ReusingCpuAllocator* const allocator = new ReusingCpuAllocator();
  c10::SetCPUAllocator(allocator, /*priority=*/1);
  return true;
}

int SetUpRuntimeFromFlags() {
  if (FLAGS_keep_freed_memory) KeepFreedMemory();
  return SetNumThreads(FLAGS_threads);
}

}  // namespace ann
