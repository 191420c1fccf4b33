// `ann_preprocess --dataset=custom`: a folder of one's own images and masks, described by a
// dataset file (ann/data/dataset_file.h), into the training layout that file describes under
// --dst: images mirrored, masks as single-channel index PNGs, split lists written (kept from
// --src when it has them; else a seeded train/val split by --val_ratio where train and val share
// a folder), then label statistics (a table, and JSON in <dst>/label_stats.json).
//
// Masks come in the forms users have: index PNGs (8 or 16-bit), palette ("P" mode) PNGs read as
// their indices, and RGB colour masks mapped through the description's palette (a grey RGB mask,
// R = G = B everywhere, is read as indices). Every problem is one error line naming the file: an
// image without its mask or a mask without its image, sizes that differ, a colour not in the
// palette or a value that is neither a class nor the ignore index (with its pixel count and
// first position). Warnings: a class absent from train, masks that look like they need
// reduce_zero_label (or do not), binary masks of 0 and 255 (255 is the ignore index).
#ifndef DATASETS_CUSTOM_H_
#define DATASETS_CUSTOM_H_

#include <string>

#include "absl/status/statusor.h"
#include "ann/data/dataset.h"
#include "datasets/preprocess.h"
#include "opencv2/core.hpp"

namespace ann {

// Converts options.src into options.dst as `info` describes both.
absl::Status PreprocessCustom(const DatasetInfo& info, const PreprocessOptions& options);

// A mask as stored labels (CV_8UC1): values checked against the classes (and the ignore index),
// colours mapped through the palette. Errors name `path`.
absl::StatusOr<cv::Mat> StoredLabels(const cv::Mat& mask, const DatasetInfo& info,
                                     const std::string& path);

}  // namespace ann

#endif  // DATASETS_CUSTOM_H_
