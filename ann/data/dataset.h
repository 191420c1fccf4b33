// Dataset definitions (class names, palettes, label conventions) and readers of the
// preprocessed on-disk layouts (ann/data/layout.h), which are mmsegmentation's, so mmseg users'
// trees work as they are.
#ifndef ANN_DATA_DATASET_H_
#define ANN_DATA_DATASET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/io/palette.h"
#include "opencv2/core.hpp"

namespace ann {

// The datasets of the seed tables.
enum class DatasetKind { kCityscapes, kAde20k, kVocAug, kPascalContext };

// What a dataset is: its classes, colours and label conventions.
struct DatasetInfo {
  DatasetKind kind;
  std::string name;
  std::vector<std::string> class_names;
  std::vector<Rgb> palette;
  // Stored label 0 means "ignore" and class c is stored as c + 1 (mmseg's reduce_zero_label).
  bool reduce_zero_label = false;
  // Largest value a stored label may hold, besides 255.
  int max_stored_label = 0;
};

// "cityscapes" (also "toy_cityscapes", same layout), "ade20k", "voc_aug" (or "voc12aug"),
// "pascal_context" (or "pascal_context_59").
absl::StatusOr<DatasetKind> ParseDatasetKind(const std::string& name);
// The definition of `kind` (class names, palette, label conventions).
const DatasetInfo& GetDatasetInfo(DatasetKind kind);

// One image of a split and its label files.
struct Sample {
  std::string id;        // e.g. "aachen/aachen_000000_000019" or "2007_000032".
  std::string image;     // Path of the colour image.
  std::string label;     // Path of the label PNG; empty for unlabelled splits (Cityscapes test).
  std::string instance;  // Cityscapes *_gtFine_instanceIds.png when present, else empty.
};

// The samples of `split` ("train", "val" or "test") under `data_root`, in list (or sorted) order.
// Fails naming the missing directory / list, or when the split is empty.
absl::StatusOr<std::vector<Sample>> ListSamples(DatasetKind kind, const std::string& data_root,
                                                const std::string& split);

// Fails naming the first image of `split` that has no label (e.g. Cityscapes' test split).
absl::Status RequireLabels(const std::vector<Sample>& samples, const std::string& split);

// Reads a label PNG as training/evaluation targets: single-channel 8-bit, reduce_zero_label
// applied, every value a class index or 255. Errors name the file and the problem.
absl::StatusOr<cv::Mat> LoadLabel(const std::string& path, const DatasetInfo& info);

// The image (BGR) and its label (as LoadLabel) of `sample`; fails naming the file when either
// is unreadable or their sizes differ.
absl::Status LoadImageAndLabel(const Sample& sample, const DatasetInfo& info, cv::Mat* image,
                               cv::Mat* label);

// Fails unless a model of `num_classes` classes fits the dataset.
absl::Status CheckClassCount(const DatasetInfo& info, int64_t num_classes);

// In place: 0 → 255, v → v − 1 (255 stays 255).
void ReduceZeroLabel(cv::Mat& label);

}  // namespace ann

#endif  // ANN_DATA_DATASET_H_
