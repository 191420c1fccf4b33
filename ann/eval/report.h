// Printing and saving metrics: mmseg's per-class table (IoU, Acc in %) and summary
// (aAcc, mIoU, mAcc), and the same numbers as json.
#ifndef ANN_EVAL_REPORT_H_
#define ANN_EVAL_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ann/eval/metrics.h"

namespace ann {

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
