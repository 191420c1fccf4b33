// CPU memory accounting: an allocator installed in front of LibTorch's CPU allocator that
// counts the bytes of live tensors and their peak. Peak memory of a forward = the peak while it
// runs minus what was allocated when it started (its input and the weights are not counted).
// Buffers libraries allocate on their own (oneDNN scratchpads, BLAS workspaces) are not seen.
#ifndef ANN_EFFICIENCY_MEMORY_H_
#define ANN_EFFICIENCY_MEMORY_H_

#include <cstdint>
#include <functional>

namespace ann {

// Peak CPU tensor memory: an allocator placed in front of LibTorch's CPU allocator counts live
// bytes, so the peak during a call can be read.
class MemoryTracker {
 public:
  // Installs the tracking allocator (once per process) and returns it.
  static MemoryTracker& Install();

  int64_t current() const;
  int64_t peak() const;
  // Sets the peak to the current value.
  void ResetPeak();

  // Peak bytes allocated by `fn` beyond what was live when it started.
  int64_t PeakDuring(const std::function<void()>& fn);
};

}  // namespace ann

#endif  // ANN_EFFICIENCY_MEMORY_H_
