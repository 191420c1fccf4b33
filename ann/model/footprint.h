// How much memory a forward pass needs at least, so that a size the machine cannot hold is
// refused up front with an error naming the flag or the image, instead of a failed allocation
// deep inside LibTorch (or the kernel's OOM killer, since Linux overcommits).
//
// The bound counts only tensors that must exist at the same moment: the backbone's last feature
// map (output stride 8) and the decode head's logits resized to the input, as float32. The real
// peak is several times higher, so a refused size could never have run; an accepted one may
// still be too large, and fails at the binary's error boundary.
#ifndef ANN_MODEL_FOOTPRINT_H_
#define ANN_MODEL_FOOTPRINT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ann/model/model_config.h"

namespace ann {

// Lower bound of the bytes one forward pass of `batch` inputs of height x width needs.
int64_t MinimumForwardBytes(const ModelConfig& config, int64_t height, int64_t width,
                            int64_t batch = 1);

// Physical memory of this machine in bytes (sysconf), or INT64_MAX when unknown.
int64_t PhysicalMemoryBytes();

// OK when `bytes` fit in physical memory; else InvalidArgumentError
//   "<subject>: <what> needs at least N GB of memory; this machine has M GB<advice>"
// (a flag error when `subject` is a flag, "--name"). A double, so that callers adding to a
// bound need not guard against overflow.
absl::Status CheckFits(double bytes, absl::string_view subject, absl::string_view what,
                       absl::string_view advice = "");

}  // namespace ann

#endif  // ANN_MODEL_FOOTPRINT_H_
