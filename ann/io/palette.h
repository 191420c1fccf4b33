// Class colours: the official Cityscapes palette (by trainId) and a deterministic palette for
// any other class count, plus colouring a label map and blending it over the image.
#ifndef ANN_IO_PALETTE_H_
#define ANN_IO_PALETTE_H_

#include <array>
#include <cstdint>
#include <vector>

#include "opencv2/core.hpp"

namespace ann {

using Rgb = std::array<uint8_t, 3>;

// The 19 Cityscapes trainId colours (RGB), road first.
const std::vector<Rgb>& CityscapesPalette();

// Cityscapes' palette for 19 classes; otherwise mmseg-style generated colours for
// `num_classes` (stable across runs).
std::vector<Rgb> PaletteFor(int num_classes);

// BGR image of `labels` (CV_8UC1) coloured by `palette`; ignore (255) and unknown ids are black.
cv::Mat Colorize(const cv::Mat& labels, const std::vector<Rgb>& palette);

// `image` * (1 - alpha) + colour * alpha, both BGR.
cv::Mat Overlay(const cv::Mat& image, const cv::Mat& color, double alpha = 0.5);

}  // namespace ann

#endif  // ANN_IO_PALETTE_H_
