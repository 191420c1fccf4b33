// Cityscapes scores as cityscapesScripts' evalPixelLevelSemanticLabeling computes them, in
// trainId space: class and category IoU from the pixel confusion matrix (a prediction of an
// ignored id counts against the true class; false positives only from evaluated ground truth),
// and instance-weighted iIoU for the 8 instance classes and the human / vehicle categories from
// *_gtFine_instanceIds.png (id > 1000, class = id / 1000; TP and FN of each instance weighted by
// avgClassSize / instanceSize, FP unweighted). Averages skip NaN.
#ifndef ANN_EVAL_CITYSCAPES_METRICS_H_
#define ANN_EVAL_CITYSCAPES_METRICS_H_

#include <string>
#include <vector>

#include "ann/eval/metrics.h"
#include "opencv2/core.hpp"

namespace ann {

// The instance-weighted TP / FN sums of cityscapesScripts' iIoU, accumulated over images.
class InstanceStats {
 public:
  InstanceStats();
  // `prediction`: CV_8UC1 trainIds; `instances`: the instanceIds PNG (CV_16UC1 or CV_32SC1).
  void Add(const cv::Mat& prediction, const cv::Mat& instances);
  void Merge(const InstanceStats& other);

  double class_tp(int train_id) const { return class_tp_[train_id]; }
  double class_fn(int train_id) const { return class_fn_[train_id]; }
  double category_tp(int category) const { return category_tp_[category]; }
  double category_fn(int category) const { return category_fn_[category]; }
  bool any() const { return instances_ > 0; }

 private:
  std::vector<double> class_tp_, class_fn_;        // Weighted, per trainId.
  std::vector<double> category_tp_, category_fn_;  // Weighted, per category.
  int64_t instances_ = 0;
};

// The scores of the authors' README table.
struct CityscapesScores {
  std::vector<double> class_iou, class_iiou;        // 19 each (iIoU NaN for stuff classes).
  std::vector<double> category_iou, category_iiou;  // 7 each (iIoU only human, vehicle).
  double class_iou_mean, class_iiou_mean, category_iou_mean, category_iiou_mean;
};

// Class / category IoU from `matrix` and iIoU from `instances`, as cityscapesScripts.
CityscapesScores ComputeCityscapesScores(const ConfusionMatrix& matrix,
                                         const InstanceStats& instances);

// The authors' README table: classes with IoU and nIoU, "Score Average", then categories.
std::string FormatCityscapesTable(const CityscapesScores& scores);

}  // namespace ann

#endif  // ANN_EVAL_CITYSCAPES_METRICS_H_
