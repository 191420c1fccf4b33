#include "ann/eval/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ann/data/cityscapes_labels.h"
#include "ann/io/image.h"
#include "ann/util/atomic_file.h"
#include "ann/util/status_macros.h"
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
    for (size_t i = 0; i < rows[r].size(); ++i)
      absl::StrAppend(&line, Center(rows[r][i], widths[i]), "|");
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
  const bool named = k <= 40;  // names and values fit in the cells
  const int cell = named ? 30 : 8, margin = named ? 150 : 30, title = 24;
  const int origin = margin + title;
  cv::Mat canvas(origin + k * cell + 10, origin + k * cell + 10, CV_8UC3,
                 cv::Scalar(255, 255, 255));
  const auto font = cv::FONT_HERSHEY_SIMPLEX;
  const cv::Scalar black(0, 0, 0), white(255, 255, 255);
  for (int t = 0; t < k; ++t) {
    int64_t row = 0;
    for (int p = 0; p <= k; ++p) row += matrix.at(t, p);
    for (int p = 0; p < k; ++p) {
      const double v = row > 0 ? static_cast<double>(matrix.at(t, p)) / row : 0.0;
      const cv::Scalar color(255 - 115 * v, 255 - 215 * v, 255 - 255 * v);
      const cv::Rect box(origin + p * cell, origin + t * cell, cell, cell);
      cv::rectangle(canvas, box, color, cv::FILLED);
      if (named && row > 0 && matrix.at(t, p) > 0) {
        // Row-normalised percentage, white on dark cells.
        const std::string text = absl::StrFormat("%.0f", 100 * v);
        cv::putText(canvas, text, {box.x + 4, box.y + cell * 2 / 3}, font, 0.35,
                    v > 0.5 ? white : black, 1, cv::LINE_AA);
      }
    }
  }
  // Axis titles: columns are the prediction, rows the ground truth.
  cv::putText(canvas, "prediction (% of each ground-truth row)", {origin, 17}, font, 0.5, black, 1,
              cv::LINE_AA);
  cv::Mat side(title, k * cell, CV_8UC3, white), rotated;
  cv::putText(side, "ground truth", {k * cell / 2 - 50, 17}, font, 0.5, black, 1, cv::LINE_AA);
  cv::rotate(side, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
  rotated.copyTo(canvas(cv::Rect(0, origin, rotated.cols, rotated.rows)));
  if (named) {
    for (int i = 0; i < k; ++i) {
      // Rows: truth; columns: prediction (names written vertically above the columns).
      cv::putText(canvas, class_names[i], {title + 4, origin + i * cell + cell * 2 / 3}, font, 0.4,
                  black, 1, cv::LINE_AA);
      cv::Mat label(cell, margin - 4, CV_8UC3, white);
      cv::putText(label, class_names[i], {2, cell * 2 / 3}, font, 0.4, black, 1, cv::LINE_AA);
      cv::Mat turned;
      cv::rotate(label, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
      turned.copyTo(canvas(cv::Rect(origin + i * cell, title + 2, cell, margin - 4)));
    }
  }
  return WriteImage(path, canvas);
}

std::string FormatEvaluation(const std::vector<std::string>& class_names,
                             const ConfusionMatrix& matrix, const CityscapesScores* cityscapes) {
  std::string text = FormatMmsegTables(class_names, matrix);
  if (cityscapes != nullptr) absl::StrAppend(&text, "\n", FormatCityscapesTable(*cityscapes));
  return text;
}

Json MetricsJson(const std::string& split, size_t images,
                 const std::vector<std::string>& class_names, const ConfusionMatrix& matrix,
                 const CityscapesScores* cityscapes) {
  Json metrics = Json::object();
  metrics["split"] = split;
  metrics["images"] = images;
  metrics["aAcc"] = JsonNumber(matrix.AllAccuracy());
  metrics["mIoU"] = JsonNumber(matrix.MeanIoU());
  metrics["mAcc"] = JsonNumber(matrix.MeanAccuracy());
  const std::vector<double> iou = matrix.IoU(), acc = matrix.Accuracy();
  for (size_t c = 0; c < class_names.size(); ++c) {
    metrics["IoU." + class_names[c]] = JsonNumber(iou[c]);
    metrics["Acc." + class_names[c]] = JsonNumber(acc[c]);
  }
  if (cityscapes != nullptr) {
    Json scores = Json::object();
    scores["IoU_class"] = JsonNumber(cityscapes->class_iou_mean);
    scores["iIoU_class"] = JsonNumber(cityscapes->class_iiou_mean);
    scores["IoU_category"] = JsonNumber(cityscapes->category_iou_mean);
    scores["iIoU_category"] = JsonNumber(cityscapes->category_iiou_mean);
    const std::vector<std::string> names = CityscapesClassNames();
    for (size_t c = 0; c < names.size() && c < cityscapes->class_iiou.size(); ++c) {
      scores["iIoU." + names[c]] = JsonNumber(cityscapes->class_iiou[c]);
    }
    const auto& categories = CityscapesCategoryNames();
    for (size_t k = 0; k < categories.size() && k < cityscapes->category_iou.size(); ++k) {
      scores["IoU." + categories[k]] = JsonNumber(cityscapes->category_iou[k]);
      scores["iIoU." + categories[k]] = JsonNumber(cityscapes->category_iiou[k]);
    }
    metrics["cityscapes"] = scores;
  }
  return metrics;
}

absl::Status WriteEvaluationFiles(const std::string& work_dir, const Json& metrics,
                                  const std::vector<std::string>& class_names,
                                  const ConfusionMatrix& matrix) {
  ANN_RETURN_IF_ERROR(WriteJsonFile(work_dir + "/metrics.json", metrics));
  ANN_RETURN_IF_ERROR(WriteConfusionCsv(work_dir + "/confusion.csv", class_names, matrix));
  return WriteConfusionHeatmap(work_dir + "/confusion.png", class_names, matrix);
}

}  // namespace ann
