// Printing and saving metrics: mmseg's per-class table (IoU, Acc in %) and summary
// (aAcc, mIoU, mAcc), the authors' Cityscapes table, and the same numbers as metrics.json (with
// mmseg's names, fractions, null where a metric is undefined), confusion.csv and confusion.png.
#ifndef ANN_EVAL_REPORT_H_
#define ANN_EVAL_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ann/eval/cityscapes_metrics.h"
#include "ann/eval/metrics.h"
#include "ann/util/json.h"

namespace ann {

// The printed report of an evaluation: mmseg's tables and, when `cityscapes` is given, the
// authors' README table.
std::string FormatEvaluation(const std::vector<std::string>& class_names,
                             const ConfusionMatrix& matrix, const CityscapesScores* cityscapes);

// metrics.json's content: split, images, aAcc, mIoU, mAcc, IoU.<class>, Acc.<class>, and for
// Cityscapes a "cityscapes" object (IoU_class, iIoU_class, IoU_category, iIoU_category and the
// per-class iIoU / per-category IoU and iIoU).
Json MetricsJson(const std::string& split, size_t images,
                 const std::vector<std::string>& class_names, const ConfusionMatrix& matrix,
                 const CityscapesScores* cityscapes);

// Writes metrics.json, confusion.csv and confusion.png into `work_dir`.
absl::Status WriteEvaluationFiles(const std::string& work_dir, const Json& metrics,
                                  const std::vector<std::string>& class_names,
                                  const ConfusionMatrix& matrix);

// The per-class table followed by the summary table, as mmseg's evaluate() logs them.
std::string FormatMmsegTables(const std::vector<std::string>& class_names,
                              const ConfusionMatrix& matrix);

// The confusion matrix as CSV: header "truth\\predicted,<classes...>,other", one row per class.
absl::Status WriteConfusionCsv(const std::string& path, const std::vector<std::string>& class_names,
                               const ConfusionMatrix& matrix);

// Row-normalised heat map (white 0 → dark blue 1) with class names on both axes, PNG.
absl::Status WriteConfusionHeatmap(const std::string& path,
                                   const std::vector<std::string>& class_names,
                                   const ConfusionMatrix& matrix);

}  // namespace ann

#endif  // ANN_EVAL_REPORT_H_
