// Dataset definitions (class names, palettes, label conventions) and readers of the
// preprocessed on-disk layouts (ann/data/layout.h), which are mmsegmentation's, so mmseg users'
// trees work as they are.
#ifndef ANN_DATA_DATASET_H_
#define ANN_DATA_DATASET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/data/dataset_info.h"
#include "ann/io/palette.h"
#include "opencv2/core.hpp"

namespace ann {

// One image of a split and its label files.
struct Sample {
  std::string id;        // e.g. "aachen/aachen_000000_000019" or "2007_000032".
  std::string image;     // Path of the colour image.
  std::string label;     // Path of the label PNG; empty for unlabelled splits (Cityscapes test).
  std::string instance;  // Cityscapes *_gtFine_instanceIds.png when present, else empty.
};

// `text` if it names a split ("train", "val" or "test"), else the flag error "--<flag>: unknown
// split 'x' (expected train, val or test)".
absl::StatusOr<std::string> ParseSplitFlag(const std::string& flag, const std::string& text);

// "cityscapes" (also "toy_cityscapes", same layout), "ade20k", "voc_aug" (or "voc12aug"),
// "pascal_context" (or "pascal_context_59").
absl::StatusOr<DatasetKind> ParseDatasetKind(const std::string& name);
// The definition of a built-in `kind` (not kCustom): its description in ann/data/datasets/
// (the dataset file format of ann/data/dataset_file.h), compiled into the library.
const DatasetInfo& GetDatasetInfo(DatasetKind kind);

// The samples of `split` ("train", "val" or "test") under `data_root`: each part in turn, in
// list (or sorted) order. Fails naming the missing directory / list, or when the split is empty
// or the dataset has no such split.
absl::StatusOr<std::vector<Sample>> ListSamples(const DatasetInfo& info,
                                                const std::string& data_root,
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

// The colours to draw a `num_classes` model's labels in: the dataset's palette when it has one
// colour per class (a custom dataset's own), else PaletteFor(num_classes).
std::vector<Rgb> ModelPalette(const DatasetInfo& info, int64_t num_classes);

// In place: 0 → 255, v → v − 1 (255 stays 255).
void ReduceZeroLabel(cv::Mat& label);

}  // namespace ann

#endif  // ANN_DATA_DATASET_H_
