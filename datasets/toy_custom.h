// A second built-in toy dataset, shaped like users' own data rather than like Cityscapes: one
// plain folder of JPEG photos (images/) and RGB colour masks (masks/), no split lists, six
// classes (Cityscapes' categories: flat, construction, nature, sky, human, vehicle; human is
// rare, about 2% of the pixels). Scenes are drawn by the toy Cityscapes renderer with other
// seeds, so the toy Cityscapes model fine-tunes to it. Described by
// configs/_base_/datasets/toy_custom.json; `ann_preprocess --dataset=toy_custom --dst=RAW`
// then `ann_preprocess --dataset=custom --dataset_file=... --src=RAW --dst=DATA`.
#ifndef DATASETS_TOY_CUSTOM_H_
#define DATASETS_TOY_CUSTOM_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ann/io/palette.h"
#include "datasets/preprocess.h"

namespace ann {

// The classes and their mask colours (RGB), in class order.
const std::vector<std::pair<std::string, Rgb>>& ToyCustomClasses();

// Writes options.toy_train + options.toy_val + options.toy_test scenes under options.dst.
absl::Status GenerateToyCustom(const PreprocessOptions& options);

}  // namespace ann

#endif  // DATASETS_TOY_CUSTOM_H_
