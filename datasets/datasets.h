// `ann_preprocess`'s dispatch: one converter per dataset name.
#ifndef DATASETS_DATASETS_H_
#define DATASETS_DATASETS_H_

#include <string>

#include "absl/status/status.h"
#include "datasets/preprocess.h"

namespace ann {

// "cityscapes", "ade20k", "voc_aug", "pascal_context" and "custom" (options.dataset_file)
// convert options.src into options.dst; "toy_cityscapes" generates a raw Cityscapes tree and
// "toy_custom" a folder of images and colour masks into options.dst.
absl::Status Preprocess(const std::string& dataset, const PreprocessOptions& options);

}  // namespace ann

#endif  // DATASETS_DATASETS_H_
