// Minimal line charts as PNG (OpenCV drawing): training curves of loss, lr and mIoU, with round
// tick values, axis titles and a legend.
#ifndef ANN_UTIL_PLOT_H_
#define ANN_UTIL_PLOT_H_

#include <string>
#include <vector>

#include "opencv2/core.hpp"

namespace ann {

// One named curve: y over x (non-finite y values are skipped).
struct Series {
  std::string name;
  std::vector<double> x, y;
};

// Tick values covering [lo, hi] at a round step (1, 2 or 5 times a power of ten), at most
// `max_ticks` of them: (0.97, 3.66) → 1, 1.5, 2, 2.5, 3, 3.5.
std::vector<double> RoundTicks(double lo, double hi, int max_ticks = 7);

// Draws `series` on shared axes (auto-scaled to round ticks, titled axes, a legend when there
// are several) as an 800x480 BGR image; the caller writes it (ann/io/image's WriteImage).
cv::Mat DrawLinePlot(const std::string& title, const std::string& x_label,
                     const std::string& y_label, const std::vector<Series>& series);

}  // namespace ann

#endif  // ANN_UTIL_PLOT_H_
