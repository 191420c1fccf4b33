// What a dataset is, as data: its classes, colours, label conventions and on-disk layout. Read
// from a description (ann/data/dataset_file.h): the built-in datasets' are in ann/data/datasets/.
#ifndef ANN_DATA_DATASET_INFO_H_
#define ANN_DATA_DATASET_INFO_H_

#include <string>
#include <utility>
#include <vector>

#include "ann/io/palette.h"

namespace ann {

// The datasets of the seed tables, and one described by a file (kCustom).
enum class DatasetKind { kCityscapes, kAde20k, kVocAug, kPascalContext, kCustom };

// Where one part of a split is, as mmseg's CustomDataset takes it (img_dir, ann_dir, split).
// Paths are relative to the data root. A split may join several parts (mmseg's VOC aug trains on
// train.txt labelled from SegmentationClass plus aug.txt labelled from SegmentationClassAug).
struct SplitPart {
  std::string img_dir;
  std::string ann_dir;
  // A list of ids, one per line (image = img_dir/<id><img_suffix>); empty: every file under
  // img_dir (recursively) ending in img_suffix, sorted by file name as mmseg sorts them.
  std::string split_file;
  // An image without its label is unlabelled (Cityscapes' test split), not an error.
  bool labels_optional = false;
};

// What a dataset is: its classes, colours, label conventions and on-disk layout.
struct DatasetInfo {
  DatasetKind kind;
  std::string name;
  std::vector<std::string> class_names;
  std::vector<Rgb> palette;
  // Stored label 0 means "ignore" and class c is stored as c + 1 (mmseg's reduce_zero_label).
  bool reduce_zero_label = false;
  // The stored label that means "no class" (besides 0 with reduce_zero_label).
  int ignore_index = 255;
  std::string img_suffix = ".jpg";
  std::string seg_map_suffix = ".png";
  // Cityscapes: *_gtFine_instanceIds.png beside the labels, for instance-weighted IoU.
  std::string instance_suffix;
  // "train", "val", "test" (those the dataset has) → their parts.
  std::vector<std::pair<std::string, std::vector<SplitPart>>> splits;

  // Largest stored label value that is a class.
  int max_stored_label() const {
    return static_cast<int>(class_names.size()) - (reduce_zero_label ? 0 : 1);
  }
};

}  // namespace ann

#endif  // ANN_DATA_DATASET_INFO_H_
