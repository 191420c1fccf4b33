// A small synthetic dataset in the exact raw Cityscapes layout (leftImg8bit, gtFine labelIds,
// instanceIds, color), drawn procedurally from a seed: street scenes with sky, buildings (with
// windows), trees, terrain, a road in perspective with lane marks, sidewalks, cars and persons
// (with instances), and the ego vehicle (ignored). Colour, texture and position all carry the
// class, so a small model learns it in minutes on CPU. Feeds the README's main command and the
// end-to-end tests: `ann_preprocess --dataset=toy_cityscapes --dst=RAW` then
// `ann_preprocess --dataset=cityscapes --src=RAW --dst=DATA`.
#ifndef DATASETS_TOY_CITYSCAPES_H_
#define DATASETS_TOY_CITYSCAPES_H_

#include <cstdint>

#include "absl/status/status.h"
#include "datasets/preprocess.h"
#include "opencv2/core.hpp"

namespace ann {

// One generated street scene and its label maps.
struct ToyScene {
  cv::Mat image;      // BGR uint8.
  cv::Mat label_ids;  // uint8 Cityscapes labelIds.
  cv::Mat instances;  // uint16: labelId, or labelId * 1000 + k for car / person instances.
};

// Deterministic in (width, height, seed).
ToyScene RenderToyScene(int width, int height, uint64_t seed);

// Writes the raw tree under options.dst (train / val / test splits of options.toy_* images).
absl::Status GenerateToyCityscapes(const PreprocessOptions& options);

}  // namespace ann

#endif  // DATASETS_TOY_CITYSCAPES_H_
