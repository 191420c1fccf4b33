#include "ann/efficiency/memory.h"

#include <algorithm>
#include <atomic>

#include "c10/core/Allocator.h"
#include "c10/core/CPUAllocator.h"
#include "c10/core/impl/alloc_cpu.h"

namespace ann {
namespace {

std::atomic<int64_t> g_current{0};
std::atomic<int64_t> g_peak{0};

// Each block is [header (size) | data], the data 64-byte aligned like c10's, so the deleter
// only needs the data pointer (raw allocations work too).
constexpr size_t kHeader = 64;

void Free(void* data) {
  if (data == nullptr) return;
  char* base = static_cast<char*>(data) - kHeader;
  const int64_t bytes = *reinterpret_cast<int64_t*>(base);
  g_current -= bytes;
  c10::free_cpu(base);
}

class TrackingAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t bytes) const override {
    char* base = static_cast<char*>(c10::alloc_cpu(bytes + kHeader));
    *reinterpret_cast<int64_t*>(base) = static_cast<int64_t>(bytes);
    const int64_t now = g_current += static_cast<int64_t>(bytes);
    int64_t peak = g_peak.load();
    while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
    }
    void* data = base + kHeader;
    return {data, data, &Free, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &Free; }
};

}  // namespace

MemoryTracker& MemoryTracker::Install() {
  static TrackingAllocator* allocator = [] {
    auto* a = new TrackingAllocator();
    c10::SetCPUAllocator(a, /*priority=*/100);
    return a;
  }();
  (void)allocator;
  static MemoryTracker tracker;
  return tracker;
}

int64_t MemoryTracker::current() const { return g_current.load(); }
int64_t MemoryTracker::peak() const { return g_peak.load(); }
void MemoryTracker::ResetPeak() { g_peak = g_current.load(); }

int64_t MemoryTracker::PeakDuring(const std::function<void()>& fn) {
  const int64_t start = current();
  ResetPeak();
  fn();
  return std::max<int64_t>(0, peak() - start);
}

}  // namespace ann
