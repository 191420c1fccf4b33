// The input normalisation, written once (mmseg's Normalize transform, `img_norm_cfg`, which both
// its train and test pipelines apply): per channel (pixel - mean) / std in float32, after BGR →
// RGB when to_rgb, as planes [3, H, W]. Plain loops, no LibTorch ops, so the training loader's
// threads never touch LibTorch's thread pool; the arithmetic is the same float32 subtraction and
// division everywhere (inference, training). Part of the data config (DataConfig::normalize).
#ifndef ANN_DATA_NORMALIZE_H_
#define ANN_DATA_NORMALIZE_H_

#include <array>

#include "ann/util/variant.h"
#include "opencv2/core.hpp"
#include "torch/torch.h"

namespace ann {

// Mean, std and channel order of a model's input.
struct NormalizeParams {
  std::array<double, 3> mean = {123.675, 116.28, 103.53};
  std::array<double, 3> std = {58.395, 57.12, 57.375};
  bool to_rgb = true;  // Images are read BGR; convert before normalising.
};

// The normalisation a variant was trained with: mmseg's img_norm_cfg (ImageNet RGB mean and std),
// or the authors' (BGR 0..255 minus the BGR mean, unit std).
NormalizeParams DefaultNormalizeParams(Variant variant);

// Writes `image` (H x W, CV_8UC3 BGR) normalised into `dst` as 3 planes of H*W floats.
void NormalizeInto(const cv::Mat& image, const NormalizeParams& params, float* dst);

// The network input [1, 3, H, W] (float32) of a BGR uint8 image.
torch::Tensor NormalizeImage(const cv::Mat& image, const NormalizeParams& params);

}  // namespace ann

#endif  // ANN_DATA_NORMALIZE_H_
