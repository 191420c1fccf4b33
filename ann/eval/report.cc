#include "ann/eval/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ann/util/atomic_file.h"
#include "opencv2/imgcodecs.hpp"
#include "opencv2/imgproc.hpp"

namespace ann {
namespace {

std::string Percent(double v) {
  return std::isnan(v) ? std::string("nan") : absl::StrFormat("%.2f", 100.0 * v);
}

std::string Center(const std::string& s, size_t width) {
  if (s.size() >= width) return s;
  const size_t left = (width - s.size()) / 2;
  return std::string(left, ' ') + s + std::string(width - s.size() - left, ' ');
}

std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size() + 2);
  }
  std::string rule = "+";
  for (size_t w : widths) absl::StrAppend(&rule, std::string(w, '-'), "+");
  std::string out = rule + "\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line = "|";
    for (size_t i = 0; i < rows[r].size(); ++i) absl::StrAppend(&line, Center(rows[r][i], widths[i]), "|");
    absl::StrAppend(&out, line, "\n");
    if (r == 0) absl::StrAppend(&out, rule, "\n");
  }
  return out + rule + "\n";
}


}  // namespace

std::string FormatMmsegTables(const std::vector<std::string>& class_names,
                              const ConfusionMatrix& matrix) {
  const std::vector<double> iou = matrix.IoU(), acc = matrix.Accuracy();
  std::vector<std::vector<std::string>> rows = {{"Class", "IoU", "Acc"}};
  for (size_t c = 0; c < class_names.size(); ++c) {
    rows.push_back({class_names[c], Percent(iou[c]), Percent(acc[c])});
  }
  std::string out = "per class results:\n" + Table(rows);
  absl::StrAppend(&out, "Summary:\n",
                  Table({{"aAcc", "mIoU", "mAcc"},
                         {Percent(matrix.AllAccuracy()), Percent(matrix.MeanIoU()),
                          Percent(matrix.MeanAccuracy())}}));
  return out;
}

absl::Status WriteConfusionCsv(const std::string& path, const std::vector<std::string>& class_names,
                               const ConfusionMatrix& matrix) {
  std::string csv = "truth\\predicted";
  for (const std::string& n : class_names) absl::StrAppend(&csv, ",", n);
  csv += ",other\n";
  const int k = matrix.num_classes();
  for (int t = 0; t < k; ++t) {
    csv += class_names[t];
    for (int p = 0; p <= k; ++p) absl::StrAppend(&csv, ",", matrix.at(t, p));
    csv += "\n";
  }
  return WriteTextFile(path, csv);
}

absl::Status WriteConfusionHeatmap(const std::string& path,
                                   const std::vector<std::string>& class_names,
                                   const ConfusionMatrix& matrix) {
  const int k = matrix.num_classes();
  const int cell = k > 40 ? 8 : 24, margin = k > 40 ? 20 : 140;
  cv::Mat canvas(margin + k * cell + 10, margin + k * cell + 10, CV_8UC3, cv::Scalar(255, 255, 255));
  for (int t = 0; t < k; ++t) {
    int64_t row = 0;
    for (int p = 0; p <= k; ++p) row += matrix.at(t, p);
    for (int p = 0; p < k; ++p) {
      const double v = row > 0 ? static_cast<double>(matrix.at(t, p)) / row : 0.0;
      const cv::Scalar color(255 - 115 * v, 255 - 215 * v, 255 - 255 * v);
      cv::rectangle(canvas, cv::Rect(margin + p * cell, margin + t * cell, cell, cell), color,
                    cv::FILLED);
    }
  }
  if (k <= 40) {
    for (int i = 0; i < k; ++i) {
      // Rows: truth; columns: prediction (names written vertically above the columns).
      cv::putText(canvas, class_names[i], {4, margin + i * cell + cell * 2 / 3},
                  cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
      cv::Mat label(cell, margin - 4, CV_8UC3, cv::Scalar(255, 255, 255));
      cv::putText(label, class_names[i], {2, cell * 2 / 3}, cv::FONT_HERSHEY_SIMPLEX, 0.4,
                  cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
      cv::Mat rotated;
      cv::rotate(label, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
      rotated.copyTo(canvas(cv::Rect(margin + i * cell, 2, cell, margin - 4)));
    }
  }
  return WriteFileAtomically(path, [&](const std::string& tmp) -> absl::Status {
    if (!cv::imwrite(tmp, canvas)) return absl::InternalError(absl::StrCat(path, ": cannot write"));
    return absl::OkStatus();
  });
}

}  // namespace ann
