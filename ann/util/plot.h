// Minimal line charts as PNG (OpenCV drawing): training curves of loss, lr and mIoU.
#ifndef ANN_UTIL_PLOT_H_
#define ANN_UTIL_PLOT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ann {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

// Draws `series` (shared axes, auto-scaled, ticks labelled) and writes `path` atomically.
absl::Status WriteLinePlot(const std::string& path, const std::string& title,
                           const std::string& x_label, const std::vector<Series>& series);

}  // namespace ann

#endif  // ANN_UTIL_PLOT_H_
