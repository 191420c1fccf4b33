#include "ann/io/palette.h"

#include "opencv2/core.hpp"

namespace ann {

const std::vector<Rgb>& CityscapesPalette() {
  static const auto* palette = new std::vector<Rgb>{
      {128, 64, 128},  {244, 35, 232}, {70, 70, 70},  {102, 102, 156}, {190, 153, 153},
      {153, 153, 153}, {250, 170, 30}, {220, 220, 0}, {107, 142, 35},  {152, 251, 152},
      {70, 130, 180},  {220, 20, 60},  {255, 0, 0},   {0, 0, 142},     {0, 0, 70},
      {0, 60, 100},    {0, 80, 100},   {0, 0, 230},   {119, 11, 32}};
  return *palette;
}

std::vector<Rgb> PaletteFor(int num_classes) {
  if (num_classes == 19) return CityscapesPalette();
  // The PASCAL VOC bit-interleaving scheme: distinct, stable colours for any count.
  std::vector<Rgb> palette;
  for (int i = 0; i < num_classes; ++i) {
    int r = 0, g = 0, b = 0, c = i;
    for (int j = 0; j < 8; ++j) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    palette.push_back({static_cast<uint8_t>(r), static_cast<uint8_t>(g), static_cast<uint8_t>(b)});
  }
  return palette;
}

cv::Mat Colorize(const cv::Mat& labels, const std::vector<Rgb>& palette) {
  cv::Mat color(labels.size(), CV_8UC3, cv::Scalar(0, 0, 0));
  for (int y = 0; y < labels.rows; ++y) {
    const uint8_t* in = labels.ptr<uint8_t>(y);
    cv::Vec3b* out = color.ptr<cv::Vec3b>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (in[x] < palette.size()) {
        const Rgb& c = palette[in[x]];
        out[x] = cv::Vec3b(c[2], c[1], c[0]);
      }
    }
  }
  return color;
}

cv::Mat Overlay(const cv::Mat& image, const cv::Mat& color, double alpha) {
  cv::Mat out;
  cv::addWeighted(image, 1.0 - alpha, color, alpha, 0.0, out);
  return out;
}

}  // namespace ann
