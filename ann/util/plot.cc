#include "ann/util/plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "ann/util/atomic_file.h"
#include "opencv2/imgcodecs.hpp"
#include "opencv2/imgproc.hpp"

namespace ann {

absl::Status WriteLinePlot(const std::string& path, const std::string& title,
                           const std::string& x_label, const std::vector<Series>& series) {
  const int width = 800, height = 480, left = 80, right = 20, top = 40, bottom = 60;
  cv::Mat canvas(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const Series& s : series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + (y0 == 0 ? 1 : std::abs(y0) * 0.1);
  const double pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  auto px = [&](double x) { return left + static_cast<int>((x - x0) / (x1 - x0) * (width - left - right)); };
  auto py = [&](double y) { return top + static_cast<int>((y1 - y) / (y1 - y0) * (height - top - bottom)); };
  const cv::Scalar black(0, 0, 0), grey(220, 220, 220);
  for (int t = 0; t <= 5; ++t) {
    const double yv = y0 + (y1 - y0) * t / 5, xv = x0 + (x1 - x0) * t / 5;
    cv::line(canvas, {left, py(yv)}, {width - right, py(yv)}, grey, 1);
    cv::putText(canvas, absl::StrFormat("%.4g", yv), {5, py(yv) + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4,
                black, 1, cv::LINE_AA);
    cv::putText(canvas, absl::StrFormat("%.6g", xv), {px(xv) - 15, height - bottom + 18},
                cv::FONT_HERSHEY_SIMPLEX, 0.4, black, 1, cv::LINE_AA);
  }
  cv::rectangle(canvas, {left, top}, {width - right, height - bottom}, black, 1);
  cv::putText(canvas, title, {left, 25}, cv::FONT_HERSHEY_SIMPLEX, 0.6, black, 1, cv::LINE_AA);
  cv::putText(canvas, x_label, {width / 2 - 20, height - 15}, cv::FONT_HERSHEY_SIMPLEX, 0.5, black,
              1, cv::LINE_AA);
  static const cv::Scalar kColors[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44}, {40, 39, 214}};
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const cv::Scalar color = kColors[k % 4];
    std::vector<cv::Point> points;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (std::isfinite(s.y[i])) points.emplace_back(px(s.x[i]), py(s.y[i]));
    }
    if (points.size() == 1) cv::circle(canvas, points[0], 3, color, cv::FILLED);
    if (points.size() > 1) cv::polylines(canvas, points, false, color, 2, cv::LINE_AA);
    cv::putText(canvas, s.name, {width - right - 150, top + 20 + 18 * static_cast<int>(k)},
                cv::FONT_HERSHEY_SIMPLEX, 0.5, color, 1, cv::LINE_AA);
  }
  return WriteFileAtomically(path, [&](const std::string& tmp) -> absl::Status {
    if (!cv::imwrite(tmp, canvas)) return absl::InternalError(path + ": cannot write plot");
    return absl::OkStatus();
  });
}

}  // namespace ann
