// Training-time augmentation, following mmseg's pipeline exactly (mmseg's
// datasets/pipelines/transforms.py), and the authors' (torchcv) variant. Every random draw comes
// from the `Rng` passed in, so a sample's augmentation is a pure function of the seed it was given.
// Labels are only ever resized with nearest neighbour and padded with 255, so only source values or
// 255 appear in them.
#ifndef ANN_DATA_TRANSFORMS_H_
#define ANN_DATA_TRANSFORMS_H_

#include <array>
#include <cstdint>
#include <random>

#include "ann/util/variant.h"
#include "opencv2/core.hpp"

namespace ann {

using Rng = std::mt19937_64;

// numpy-style draw: uniform in [a, b).
double Uniform(Rng& rng, double a, double b);
// numpy-style draw: an integer in [lo, hi) (hi exclusive, like np.random.randint).
int RandInt(Rng& rng, int lo, int hi);

// An image and its label map, transformed together.
struct LabeledImage {
  cv::Mat image;  // HxWx3 uint8 BGR.
  cv::Mat label;  // HxW uint8.
};

// mmcv's keep-ratio target size: the largest size with long edge <= max(scale) and short edge
// <= min(scale); each side rounded as int(side * factor + 0.5). `scale` is (w, h) in any order.
cv::Size RescaleSize(cv::Size image, cv::Size scale);
// Image bilinear, label nearest (cv2's INTER_LINEAR / INTER_NEAREST, as mmcv's default backend).
void ResizeTo(LabeledImage& sample, cv::Size size);

// mmseg Resize(img_scale=scale, ratio_range=(lo, hi), keep_ratio=True).
void RandomResize(LabeledImage& sample, cv::Size scale, double ratio_lo, double ratio_hi, Rng& rng);

// mmseg RandomCrop: a crop box (x, y, w, h) drawn uniformly; with cat_max_ratio < 1 it is
// re-drawn up to 10 times until the crop holds more than one labelled class and no class covers
// `cat_max_ratio` or more of its labelled pixels (the 11th draw is kept unchecked, as in mmseg).
cv::Rect RandomCropBox(const cv::Mat& label, cv::Size crop, double cat_max_ratio, int ignore_index,
                       Rng& rng);
// Crops `sample` to the box RandomCropBox draws.
void RandomCrop(LabeledImage& sample, cv::Size crop, double cat_max_ratio, Rng& rng);

// Horizontal flip of image and label with probability `prob`.
void RandomFlip(LabeledImage& sample, double prob, Rng& rng);

// mmseg PhotoMetricDistortion: brightness ±32, contrast ×[0.5, 1.5] (before or after the HSV
// steps, chosen at random), saturation ×[0.5, 1.5], hue ±18 (OpenCV's 0..179 hue), each p=0.5.
void PhotoMetricDistortion(cv::Mat& image, Rng& rng);

// Pads bottom/right to at least `size`: image with `image_value`, label with 255.
void PadTo(LabeledImage& sample, cv::Size size, const cv::Scalar& image_value = cv::Scalar(0));

// The training augmentation of a config (mmseg's pipeline or the authors').
struct TrainPipelineConfig {
  Variant variant = Variant::kMmseg;
  cv::Size scale{2048, 1024};  // Base (w, h) before the random ratio.
  double ratio_lo = 0.5;
  double ratio_hi = 2.0;
  cv::Size crop{1024, 512};  // (w, h).
  double cat_max_ratio = 0.75;
  double flip_prob = 0.5;
  bool photometric = true;
};

// mmseg: RandomResize → RandomCrop(cat_max_ratio) → RandomFlip → PhotoMetricDistortion →
// PadTo(crop, 0 / 255). Authors' variant (torchcv): resize of the image itself by a scale in
// [ratio_lo, ratio_hi] with aspect jitter [0.9, 1.1] (cubic) → random crop → brightness ±10 →
// flip → pad at a random offset with the mean (103, 116, 123) / 255.
LabeledImage ApplyTrainPipeline(LabeledImage sample, const TrainPipelineConfig& config, Rng& rng);

// A 64-bit seed mixing the run seed with the draw's coordinates (splitmix64 chain), so every
// (seed, iteration, rank, slot) gets an independent, reproducible stream.
uint64_t MixSeed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0);

}  // namespace ann

#endif  // ANN_DATA_TRANSFORMS_H_
