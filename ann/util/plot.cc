#include "ann/util/plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "opencv2/imgproc.hpp"

namespace ann {

std::vector<double> RoundTicks(double lo, double hi, int max_ticks) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(1, max_ticks - 1);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * power;
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * power >= raw) {
      step = m * power;
      break;
    }
  }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

namespace {

// "%g" with enough digits for the tick step, never more.
std::string TickLabel(double v) { return absl::StrFormat("%.6g", v); }

}  // namespace

cv::Mat DrawLinePlot(const std::string& title, const std::string& x_label,
                     const std::string& y_label, const std::vector<Series>& series) {
  const int width = 800, height = 480, left = 90, right = 20, top = 40, bottom = 60;
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
  // Axes end on round ticks.
  const std::vector<double> y_ticks_raw = RoundTicks(y0, y1);
  const double y_step = y_ticks_raw.size() > 1 ? y_ticks_raw[1] - y_ticks_raw[0] : 1;
  y0 = std::floor(y0 / y_step + 1e-9) * y_step;
  y1 = std::ceil(y1 / y_step - 1e-9) * y_step;
  const std::vector<double> y_ticks = RoundTicks(y0, y1), x_ticks = RoundTicks(x0, x1, 9);
  auto px = [&](double x) {
    return left + static_cast<int>((x - x0) / (x1 - x0) * (width - left - right));
  };
  auto py = [&](double y) {
    return top + static_cast<int>((y1 - y) / (y1 - y0) * (height - top - bottom));
  };
  const cv::Scalar black(0, 0, 0), grey(220, 220, 220);
  const auto font = cv::FONT_HERSHEY_SIMPLEX;
  for (double yv : y_ticks) {
    cv::line(canvas, {left, py(yv)}, {width - right, py(yv)}, grey, 1);
    cv::putText(canvas, TickLabel(yv), {20, py(yv) + 4}, font, 0.4, black, 1, cv::LINE_AA);
  }
  for (double xv : x_ticks) {
    cv::line(canvas, {px(xv), height - bottom}, {px(xv), height - bottom + 4}, black, 1);
    cv::putText(canvas, TickLabel(xv), {px(xv) - 12, height - bottom + 18}, font, 0.4, black, 1,
                cv::LINE_AA);
  }
  cv::rectangle(canvas, {left, top}, {width - right, height - bottom}, black, 1);
  cv::putText(canvas, title, {left, 25}, font, 0.6, black, 1, cv::LINE_AA);
  cv::putText(canvas, x_label, {width / 2 - 30, height - 15}, font, 0.5, black, 1, cv::LINE_AA);
  // The y title, written vertically along the left edge.
  cv::Mat y_title(20, height - top - bottom, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(y_title, y_label, {y_title.cols / 2 - 20, 15}, font, 0.5, black, 1, cv::LINE_AA);
  cv::Mat rotated;
  cv::rotate(y_title, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
  rotated.copyTo(canvas(cv::Rect(0, top, rotated.cols, rotated.rows)));
  static const cv::Scalar kColors[] = {
      {180, 119, 31}, {14, 127, 255}, {44, 160, 44}, {40, 39, 214}};
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const cv::Scalar color = kColors[k % 4];
    std::vector<cv::Point> points;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (std::isfinite(s.y[i])) points.emplace_back(px(s.x[i]), py(s.y[i]));
    }
    if (points.size() == 1) cv::circle(canvas, points[0], 3, color, cv::FILLED);
    if (points.size() > 1) cv::polylines(canvas, points, false, color, 2, cv::LINE_AA);
  }
  if (series.size() > 1) {  // legend
    const int x = width - right - 150, y = top + 10;
    cv::rectangle(canvas, {x - 8, y - 6},
                  {width - right - 8, y + 20 * static_cast<int>(series.size())}, grey, cv::FILLED);
    for (size_t k = 0; k < series.size(); ++k) {
      const int row = y + 8 + 20 * static_cast<int>(k);
      cv::line(canvas, {x, row}, {x + 24, row}, kColors[k % 4], 3, cv::LINE_AA);
      cv::putText(canvas, series[k].name, {x + 32, row + 5}, font, 0.5, black, 1, cv::LINE_AA);
    }
  }
  return canvas;
}

}  // namespace ann
