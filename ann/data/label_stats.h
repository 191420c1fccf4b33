// Label statistics of a dataset as training sees it (LoadLabel: palette indices,
// reduce_zero_label, 255 = ignore): per class, pixels and images in each split. Printed by
// ann_preprocess --dataset=custom as a table and JSON, and the source of --class_weight=auto.
#ifndef ANN_DATA_LABEL_STATS_H_
#define ANN_DATA_LABEL_STATS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/data/dataset.h"
#include "ann/util/json.h"

namespace ann {

// Counts of one split.
struct SplitLabelStats {
  int64_t images = 0;
  std::vector<int64_t> pixels;       // per class
  std::vector<int64_t> images_with;  // per class: images holding at least one pixel of it
  // Per class: all pixels of the images holding it (median frequency balancing's denominator).
  std::vector<int64_t> pixels_of_images_with;
  int64_t ignored_pixels = 0;
  int64_t images_with_ignored = 0;  // images holding at least one ignored pixel
};

// Reads every label of `samples` (on `workers` threads, with progress) and counts. Errors name
// the label file.
absl::StatusOr<SplitLabelStats> CountLabels(const std::vector<Sample>& samples,
                                            const DatasetInfo& info, int workers);

// The per-class table: class, then pixels (and share) and images for each split.
std::string FormatLabelStats(const DatasetInfo& info,
                             const std::vector<std::pair<std::string, SplitLabelStats>>& splits);

// {"dataset", "classes", "splits": {split: {"images", "ignored_pixels", "pixels": [...],
// "images_with": [...]}}}.
Json LabelStatsJson(const DatasetInfo& info,
                    const std::vector<std::pair<std::string, SplitLabelStats>>& splits);

// Median frequency balancing (Eigen & Fergus, as SegNet weights classes): freq(c) = pixels of c
// / pixels of the images holding c; weight(c) = median(freq) / freq(c). A class with no pixel
// gets weight 1 (it adds nothing to the loss).
std::vector<float> MedianFrequencyWeights(const SplitLabelStats& stats);

}  // namespace ann

#endif  // ANN_DATA_LABEL_STATS_H_
