#include "ann/eval/metrics.h"

#include <cmath>
#include <limits>

namespace ann {

ConfusionMatrix::ConfusionMatrix(int num_classes)
    : num_classes_(num_classes), counts_(static_cast<size_t>(num_classes) * (num_classes + 1), 0) {}

void ConfusionMatrix::Add(const cv::Mat& prediction, const cv::Mat& label) {
  CV_Assert(prediction.size() == label.size() && prediction.type() == CV_8UC1 &&
            label.type() == CV_8UC1);
  const int k = num_classes_;
  for (int y = 0; y < label.rows; ++y) {
    const uint8_t* p = prediction.ptr<uint8_t>(y);
    const uint8_t* t = label.ptr<uint8_t>(y);
    for (int x = 0; x < label.cols; ++x) {
      if (t[x] >= k) continue;  // 255 (and anything not a class) is ignored.
      const int predicted = p[x] < k ? p[x] : k;
      ++counts_[t[x] * (k + 1) + predicted];
    }
  }
}

void ConfusionMatrix::Merge(const ConfusionMatrix& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

std::vector<double> ConfusionMatrix::IoU() const {
  const int k = num_classes_;
  std::vector<double> iou(k);
  for (int c = 0; c < k; ++c) {
    int64_t tp = at(c, c), fn = 0, fp = 0;
    for (int j = 0; j <= k; ++j) fn += j == c ? 0 : at(c, j);
    for (int i = 0; i < k; ++i) fp += i == c ? 0 : at(i, c);
    const int64_t denominator = tp + fp + fn;
    iou[c] = denominator == 0 ? std::numeric_limits<double>::quiet_NaN()
                              : static_cast<double>(tp) / denominator;
  }
  return iou;
}

std::vector<double> ConfusionMatrix::Accuracy() const {
  const int k = num_classes_;
  std::vector<double> acc(k);
  for (int c = 0; c < k; ++c) {
    int64_t total = 0;
    for (int j = 0; j <= k; ++j) total += at(c, j);
    acc[c] = total == 0 ? std::numeric_limits<double>::quiet_NaN()
                        : static_cast<double>(at(c, c)) / total;
  }
  return acc;
}

double NanMean(const std::vector<double>& values) {
  double sum = 0;
  int n = 0;
  for (double v : values) {
    if (!std::isnan(v)) {
      sum += v;
      ++n;
    }
  }
  return n == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / n;
}

double ConfusionMatrix::MeanIoU() const { return NanMean(IoU()); }
double ConfusionMatrix::MeanAccuracy() const { return NanMean(Accuracy()); }

int64_t ConfusionMatrix::LabelledPixels() const {
  int64_t total = 0;
  for (int64_t c : counts_) total += c;
  return total;
}

double ConfusionMatrix::AllAccuracy() const {
  int64_t tp = 0;
  for (int c = 0; c < num_classes_; ++c) tp += at(c, c);
  const int64_t total = LabelledPixels();
  return total == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(tp) / total;
}

}  // namespace ann
