// Semantic segmentation metrics over a whole split (mmseg / cityscapesScripts conventions):
// a confusion matrix over the classes (ground truth 255 ignored; a prediction outside the
// classes counts as wrong), then per class IoU = TP / (TP + FP + FN) and Acc = TP / (TP + FN),
// aAcc = sum TP / labelled pixels, and means over the classes whose value is defined (NaN
// classes — absent from ground truth and prediction — are skipped).
#ifndef ANN_EVAL_METRICS_H_
#define ANN_EVAL_METRICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "opencv2/core.hpp"

namespace ann {

// Pixel counts of (ground truth, prediction) over trainIds, ground truth 255 ignored, and the
// metrics mmseg derives from them (IoU, Acc, aAcc, mIoU, mAcc; NaN for absent classes).
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int num_classes);

  // `prediction` and `label` are CV_8UC1 of the same size; label 255 is ignored.
  void Add(const cv::Mat& prediction, const cv::Mat& label);
  void Merge(const ConfusionMatrix& other);

  int num_classes() const { return num_classes_; }
  // Pixels with ground truth `truth` predicted as `predicted` (predicted == num_classes: any
  // prediction outside the classes).
  int64_t at(int truth, int predicted) const {
    return counts_[truth * (num_classes_ + 1) + predicted];
  }
  const std::vector<int64_t>& counts() const { return counts_; }

  std::vector<double> IoU() const;       // NaN where TP + FP + FN = 0.
  std::vector<double> Accuracy() const;  // NaN where the class has no ground truth.
  double MeanIoU() const;                // Mean over non-NaN classes.
  double MeanAccuracy() const;
  double AllAccuracy() const;  // aAcc.
  int64_t LabelledPixels() const;

 private:
  int num_classes_;
  std::vector<int64_t> counts_;  // num_classes x (num_classes + 1)
};

// Mean of the non-NaN values (NaN if none).
double NanMean(const std::vector<double>& values);

}  // namespace ann

#endif  // ANN_EVAL_METRICS_H_
