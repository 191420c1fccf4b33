// A dataset described by data instead of code: one small JSON file with the fields of mmseg's
// CustomDataset, so that a folder of one's own images and masks trains, evaluates and predicts
// like the built-in datasets (which are such descriptions too, ann/data/datasets/*.json).
//
//   {
//     "classes": ["background", "crack", "spall"],
//     "palette": [[0, 0, 0], [255, 0, 0], [0, 0, 255]],      optional (generated colours)
//     "img_dir": "images", "ann_dir": "masks",                defaults of every split
//     "img_suffix": ".jpg", "seg_map_suffix": ".png",          defaults ".jpg", ".png"
//     "instance_suffix": "_gtFine_instanceIds.png",            optional: instance ids beside
//                                                              the labels (Cityscapes' nIoU)
//     "reduce_zero_label": false, "ignore_index": 255,         defaults
//     "train": {"split": "splits/train.txt"},                  per split: img_dir, ann_dir,
//     "val": {"split": "splits/val.txt"}                         split (a list of ids; absent:
//   }                                                            every image under img_dir)
//
// Paths are relative to --data_root. A split may be a list of such objects (parts joined in
// order, as mmseg's VOC aug config joins train.txt and aug.txt). Unknown keys are errors, so a
// misspelt field is never silently ignored.
#ifndef ANN_DATA_DATASET_FILE_H_
#define ANN_DATA_DATASET_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "ann/data/dataset_info.h"

namespace ann {

// Reads and checks a dataset description; errors name the file and the field.
absl::StatusOr<DatasetInfo> ReadDatasetFile(const std::string& path);

// Parses the text of a description (errors name `path` as its file).
absl::StatusOr<DatasetInfo> ParseDatasetDescription(const std::string& text,
                                                    const std::string& path);

}  // namespace ann

#endif  // ANN_DATA_DATASET_FILE_H_
