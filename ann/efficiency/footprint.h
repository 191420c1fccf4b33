// How much memory a forward pass takes at its peak, so that a size this process cannot hold is
// refused up front with an error naming the flag or the image, instead of a failed allocation
// deep inside LibTorch or the kernel's OOM killer (Linux overcommits).
//
// The estimate is per input pixel, from peak resident sizes measured with ann_test on AMD EPYC
// (Zen 3) at 0.13-4.2 Mpixel, depths 18 and 50, 6 to 150 classes: the backbone's feature maps
// (and LibTorch's dilated-convolution buffers, in `exact`) or the head and the logits at the
// input's size, whichever peaks higher. It is meant to lie at or a little above the real peak
// (tests/memory_e2e_test.sh runs passes under a cgroup limit just below and above it).
#ifndef ANN_EFFICIENCY_FOOTPRINT_H_
#define ANN_EFFICIENCY_FOOTPRINT_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ann/model/model_config.h"
#include "ann/util/precision.h"

namespace ann {

// The bytes one forward pass of `batch` inputs of height x width adds at its peak, over what the
// loaded model already holds: in LibTorch's modules (`precision` empty: mmseg's arithmetic) or in
// the inference form of `precision`. In doubles, so that absurd sizes cannot overflow.
double ForwardPeakBytes(const ModelConfig& config, int64_t height, int64_t width,
                        std::optional<Precision> precision, int64_t batch = 1);

// The same for a training step (forward and backward) of a batch of crops.
double TrainStepPeakBytes(const ModelConfig& config, int64_t height, int64_t width, int64_t batch);

// OK when `bytes` fit in what this process may still allocate (ann/util/memory.h); else
// InvalidArgumentError
//   "<subject>: <what> needs about N GB of memory; M GB is available (<the limit>)<advice>"
// (a flag error when `subject` is a flag, "--name").
absl::Status CheckFits(double bytes, absl::string_view subject, absl::string_view what,
                       absl::string_view advice = "");

}  // namespace ann

#endif  // ANN_EFFICIENCY_FOOTPRINT_H_
