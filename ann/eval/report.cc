#include "ann/eval/report.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ann/util/atomic_file.h"

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

std::string JsonNumber(double v) {
  return std::isfinite(v) ? absl::StrFormat("%.6f", v) : std::string("NaN");
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

absl::Status WriteMetricsJson(const std::string& path, const std::vector<std::string>& class_names,
                              const ConfusionMatrix& matrix) {
  const std::vector<double> iou = matrix.IoU(), acc = matrix.Accuracy();
  std::string json = absl::StrCat("{\"aAcc\": ", JsonNumber(matrix.AllAccuracy()),
                                  ", \"mIoU\": ", JsonNumber(matrix.MeanIoU()),
                                  ", \"mAcc\": ", JsonNumber(matrix.MeanAccuracy()));
  for (size_t c = 0; c < class_names.size(); ++c) {
    absl::StrAppend(&json, ", \"IoU.", class_names[c], "\": ", JsonNumber(iou[c]), ", \"Acc.",
                    class_names[c], "\": ", JsonNumber(acc[c]));
  }
  json += "}\n";
  return WriteFileAtomically(path, [&](const std::string& tmp) -> absl::Status {
    std::ofstream out(tmp);
    out << json;
    out.close();
    if (!out) return absl::InternalError(absl::StrCat(path, ": cannot write"));
    return absl::OkStatus();
  });
}

}  // namespace ann
