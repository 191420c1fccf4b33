#include "ann/eval/cityscapes_metrics.h"

#include <cmath>
#include <limits>
#include <map>

#include "absl/strings/str_format.h"
#include "ann/data/cityscapes_labels.h"

namespace ann {
namespace {

constexpr int kClasses = 19;
constexpr int kCategories = 7;
constexpr int kHuman = 5, kVehicle = 6;
const double kNan = std::numeric_limits<double>::quiet_NaN();

}  // namespace

InstanceStats::InstanceStats()
    : class_tp_(kClasses, 0),
      class_fn_(kClasses, 0),
      category_tp_(kCategories, 0),
      category_fn_(kCategories, 0) {}

void InstanceStats::Add(const cv::Mat& prediction, const cv::Mat& instances) {
  cv::Mat ids;
  instances.convertTo(ids, CV_32S);
  // Per instance: size, pixels predicted as its class, pixels predicted in its category.
  struct Counts {
    int64_t size = 0, tp = 0, category_tp = 0;
  };
  std::map<int, Counts> counts;
  const auto& to_train = LabelIdToTrainId();
  for (int y = 0; y < ids.rows; ++y) {
    const int* id = ids.ptr<int>(y);
    const uint8_t* p = prediction.ptr<uint8_t>(y);
    for (int x = 0; x < ids.cols; ++x) {
      if (id[x] <= 1000) continue;
      Counts& c = counts[id[x]];
      ++c.size;
      const int label_id = id[x] / 1000;
      const int train_id = label_id < 256 ? to_train[label_id] : 255;
      if (train_id == 255) continue;
      c.tp += p[x] == train_id;
      c.category_tp += p[x] < kClasses &&
                       CityscapesCategoryOfTrainId(p[x]) == CityscapesCategoryOfTrainId(train_id);
    }
  }
  for (const auto& [id, c] : counts) {
    const int label_id = id / 1000;
    const int train_id = label_id < 256 ? to_train[label_id] : 255;
    if (train_id == 255) continue;  // Instances of ignored classes (caravan, trailer).
    const double weight = CityscapesAverageInstanceSize(train_id) / static_cast<double>(c.size);
    class_tp_[train_id] += c.tp * weight;
    class_fn_[train_id] += (c.size - c.tp) * weight;
    const int category = CityscapesCategoryOfTrainId(train_id);
    category_tp_[category] += c.category_tp * weight;
    category_fn_[category] += (c.size - c.category_tp) * weight;
    ++instances_;
  }
}

void InstanceStats::Merge(const InstanceStats& o) {
  for (int i = 0; i < kClasses; ++i) {
    class_tp_[i] += o.class_tp_[i];
    class_fn_[i] += o.class_fn_[i];
  }
  for (int i = 0; i < kCategories; ++i) {
    category_tp_[i] += o.category_tp_[i];
    category_fn_[i] += o.category_fn_[i];
  }
  instances_ += o.instances_;
}

CityscapesScores ComputeCityscapesScores(const ConfusionMatrix& m, const InstanceStats& inst) {
  CityscapesScores s;
  s.class_iou = m.IoU();
  s.class_iiou.assign(kClasses, kNan);
  // Unweighted false positives of class c: evaluated ground truth of other classes predicted c.
  auto fp_of = [&](const std::vector<int>& predicted, auto in_set) {
    double fp = 0;
    for (int t = 0; t < kClasses; ++t) {
      if (in_set(t)) continue;
      for (int p : predicted) fp += m.at(t, p);
    }
    return fp;
  };
  for (int c = 0; c < kClasses; ++c) {
    if (CityscapesAverageInstanceSize(c) == 0) continue;
    const double tp = inst.class_tp(c), fn = inst.class_fn(c);
    const double fp = fp_of({c}, [c](int t) { return t == c; });
    const double denominator = tp + fp + fn;
    s.class_iiou[c] = denominator == 0 ? kNan : tp / denominator;
  }
  s.category_iou.assign(kCategories, kNan);
  s.category_iiou.assign(kCategories, kNan);
  for (int k = 0; k < kCategories; ++k) {
    std::vector<int> members;
    for (int c = 0; c < kClasses; ++c) {
      if (CityscapesCategoryOfTrainId(c) == k) members.push_back(c);
    }
    auto in_category = [k](int t) { return CityscapesCategoryOfTrainId(t) == k; };
    double tp = 0, row = 0;
    for (int t : members) {
      for (int p = 0; p <= kClasses; ++p) {
        row += m.at(t, p);
        if (p < kClasses && in_category(p)) tp += m.at(t, p);
      }
    }
    const double fp = fp_of(members, in_category);
    const double denominator = tp + fp + (row - tp);
    s.category_iou[k] = denominator == 0 ? kNan : tp / denominator;
    if (k == kHuman || k == kVehicle) {
      const double itp = inst.category_tp(k), ifn = inst.category_fn(k);
      const double d = itp + fp + ifn;
      s.category_iiou[k] = d == 0 ? kNan : itp / d;
    }
  }
  s.class_iou_mean = NanMean(s.class_iou);
  s.class_iiou_mean = NanMean(s.class_iiou);
  s.category_iou_mean = NanMean(s.category_iou);
  s.category_iiou_mean = NanMean(s.category_iiou);
  return s;
}

std::string FormatCityscapesTable(const CityscapesScores& s) {
  auto value = [](double v) {
    return std::isnan(v) ? std::string("     nan") : absl::StrFormat("   %.3f", v);
  };
  const std::string rule(32, '-');
  std::string out = "classes          IoU      nIoU\n" + rule + "\n";
  const std::vector<std::string> names = CityscapesClassNames();
  for (int c = 0; c < kClasses; ++c) {
    out +=
        absl::StrFormat("%-14s:%s %s\n", names[c], value(s.class_iou[c]), value(s.class_iiou[c]));
  }
  out +=
      rule + "\n" +
      absl::StrFormat("Score Average :%s %s\n", value(s.class_iou_mean), value(s.class_iiou_mean)) +
      rule + "\n\n\ncategories       IoU      nIoU\n" + rule + "\n";
  for (int k = 0; k < kCategories; ++k) {
    out += absl::StrFormat("%-14s:%s %s\n", CityscapesCategoryNames()[k], value(s.category_iou[k]),
                           value(s.category_iiou[k]));
  }
  out += rule + "\n" +
         absl::StrFormat("Score Average :%s %s\n", value(s.category_iou_mean),
                         value(s.category_iiou_mean)) +
         rule + "\n";
  return out;
}

}  // namespace ann
