// Where a config's data is and how it is read: mmseg's `data` settings without the training
// pipeline (which is the training recipe's, ann/train/train_config.h). Set by the flags defined
// here (configs/_base_/datasets/*.flags); the library reads only DataConfig.
#ifndef ANN_DATA_DATA_CONFIG_H_
#define ANN_DATA_DATA_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/data/dataset.h"
#include "ann/data/normalize.h"
#include "ann/util/variant.h"

namespace ann {

// The data part of a config.
struct DataConfig {
  DatasetKind kind = DatasetKind::kCityscapes;
  std::string dataset = "cityscapes";  // The name given (e.g. "voc12aug" for kVocAug).
  DatasetInfo info = GetDatasetInfo(DatasetKind::kCityscapes);  // What `dataset` is.
  std::string data_root;  // Root of the preprocessed layout; may be empty.
  std::vector<std::string> train_splits = {"train"};  // Concatenated (e.g. train + val).
  std::string val_split = "val";
  int workers = 2;  // Decoding / loading threads.
  // mmseg's img_norm_cfg: how images become network inputs, in training and at test time.
  NormalizeParams normalize;
};

// Reads --dataset --data_root --train_split --val_split --workers, and --mean --std --to_rgb
// (three numbers each, std positive; true, false or default) over `variant`'s normalisation;
// every bad value is an error naming its flag.
absl::StatusOr<DataConfig> DataConfigFromFlags(Variant variant = Variant::kMmseg);

}  // namespace ann

#endif  // ANN_DATA_DATA_CONFIG_H_
