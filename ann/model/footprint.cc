#include "ann/model/footprint.h"

#include <unistd.h>

#include <limits>

#include "absl/strings/str_format.h"

namespace ann {

int64_t MinimumForwardBytes(const ModelConfig& config, int64_t height, int64_t width,
                            int64_t batch) {
  // In doubles: the sizes come from flags and may be absurd; the bound must not overflow.
  const double pixels = static_cast<double>(height) * static_cast<double>(width);
  const double stride8 =
      static_cast<double>((height + 7) / 8) * static_cast<double>((width + 7) / 8);
  const double last_stage_channels = config.depth >= 50 ? 2048 : 512;
  const double floats =
      static_cast<double>(batch) *
      (last_stage_channels * stride8 + static_cast<double>(config.num_classes) * pixels);
  const double bytes = 4 * floats;
  return bytes >= 9e18 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(bytes);
}

int64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(pages) * page_size;
}

absl::Status CheckFits(double bytes, absl::string_view subject, absl::string_view what,
                       absl::string_view advice) {
  const int64_t physical = PhysicalMemoryBytes();
  if (bytes <= static_cast<double>(physical)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: %s needs at least %.1f GB of memory; this machine has %.1f GB%s",
                      subject, what, bytes / 1e9, physical / 1e9, advice));
}

}  // namespace ann
