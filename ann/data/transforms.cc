#include "ann/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "opencv2/imgproc.hpp"

namespace ann {

double Uniform(Rng& rng, double a, double b) {
  // 53 random bits → [0, 1), like numpy's random_sample.
  const double u = static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
  return a + (b - a) * u;
}

int RandInt(Rng& rng, int lo, int hi) {
  if (hi <= lo + 1) return lo;
  const uint64_t span = static_cast<uint64_t>(hi - lo);
  // Rejection sampling for an unbiased draw.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t r;
  do {
    r = rng();
  } while (r >= limit);
  return lo + static_cast<int>(r % span);
}

cv::Size RescaleSize(cv::Size image, cv::Size scale) {
  const double max_long = std::max(scale.width, scale.height);
  const double max_short = std::min(scale.width, scale.height);
  const double factor = std::min(max_long / std::max(image.width, image.height),
                                 max_short / std::min(image.width, image.height));
  return cv::Size(static_cast<int>(image.width * factor + 0.5),
                  static_cast<int>(image.height * factor + 0.5));
}

void ResizeTo(LabeledImage& sample, cv::Size size) {
  if (sample.image.size() == size) return;
  cv::resize(sample.image, sample.image, size, 0, 0, cv::INTER_LINEAR);
  if (!sample.label.empty()) cv::resize(sample.label, sample.label, size, 0, 0, cv::INTER_NEAREST);
}

void RandomResize(LabeledImage& sample, cv::Size scale, double ratio_lo, double ratio_hi,
                  Rng& rng) {
  const double ratio = Uniform(rng, ratio_lo, ratio_hi);
  const cv::Size target(static_cast<int>(scale.width * ratio),
                        static_cast<int>(scale.height * ratio));
  ResizeTo(sample, RescaleSize(sample.image.size(), target));
}

namespace {

cv::Rect DrawCrop(cv::Size image, cv::Size crop, Rng& rng) {
  const int margin_h = std::max(image.height - crop.height, 0);
  const int margin_w = std::max(image.width - crop.width, 0);
  const int y = RandInt(rng, 0, margin_h + 1);
  const int x = RandInt(rng, 0, margin_w + 1);
  return cv::Rect(x, y, std::min(crop.width, image.width - x),
                  std::min(crop.height, image.height - y));
}

}  // namespace

cv::Rect RandomCropBox(const cv::Mat& label, cv::Size crop, double cat_max_ratio, int ignore_index,
                       Rng& rng) {
  cv::Rect box = DrawCrop(label.size(), crop, rng);
  if (cat_max_ratio >= 1.0) return box;
  for (int attempt = 0; attempt < 10; ++attempt) {
    int counts[256] = {0};
    const cv::Mat region = label(box);
    for (int y = 0; y < region.rows; ++y) {
      const uint8_t* row = region.ptr<uint8_t>(y);
      for (int x = 0; x < region.cols; ++x) ++counts[row[x]];
    }
    int classes = 0;
    int64_t total = 0, largest = 0;
    for (int v = 0; v < 256; ++v) {
      if (v == ignore_index || counts[v] == 0) continue;
      ++classes;
      total += counts[v];
      largest = std::max<int64_t>(largest, counts[v]);
    }
    if (classes > 1 && static_cast<double>(largest) / total < cat_max_ratio) break;
    box = DrawCrop(label.size(), crop, rng);
  }
  return box;
}

void RandomCrop(LabeledImage& sample, cv::Size crop, double cat_max_ratio, Rng& rng) {
  const cv::Rect box = RandomCropBox(sample.label, crop, cat_max_ratio, 255, rng);
  sample.image = sample.image(box).clone();
  sample.label = sample.label(box).clone();
}

void RandomFlip(LabeledImage& sample, double prob, Rng& rng) {
  if (Uniform(rng, 0.0, 1.0) < prob) {
    cv::flip(sample.image, sample.image, 1);
    if (!sample.label.empty()) cv::flip(sample.label, sample.label, 1);
  }
}

namespace {

// img * alpha + beta in float, clipped to [0, 255], truncated to uint8 (mmseg's `convert`).
void Convert(cv::Mat& image, double alpha, double beta) {
  cv::Mat f;
  image.convertTo(f, CV_32F);
  f = f * alpha + beta;
  cv::Mat clipped = cv::max(cv::min(f, 255.0), 0.0);
  // Truncation toward zero (numpy astype), not OpenCV's rounding.
  const int n = static_cast<int>(clipped.total() * clipped.channels());
  cv::Mat out(image.size(), image.type());
  const float* src = clipped.ptr<float>();
  uint8_t* dst = out.ptr<uint8_t>();
  for (int i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(src[i]);
  image = out;
}

}  // namespace

void PhotoMetricDistortion(cv::Mat& image, Rng& rng) {
  if (RandInt(rng, 0, 2)) Convert(image, 1.0, Uniform(rng, -32, 32));
  const int mode = RandInt(rng, 0, 2);
  auto contrast = [&] {
    if (RandInt(rng, 0, 2)) Convert(image, Uniform(rng, 0.5, 1.5), 0.0);
  };
  if (mode == 1) contrast();
  if (RandInt(rng, 0, 2)) {
    cv::Mat hsv;
    cv::cvtColor(image, hsv, cv::COLOR_BGR2HSV);
    std::vector<cv::Mat> ch;
    cv::split(hsv, ch);
    Convert(ch[1], Uniform(rng, 0.5, 1.5), 0.0);
    cv::merge(ch, hsv);
    cv::cvtColor(hsv, image, cv::COLOR_HSV2BGR);
  }
  if (RandInt(rng, 0, 2)) {
    cv::Mat hsv;
    cv::cvtColor(image, hsv, cv::COLOR_BGR2HSV);
    const int delta = RandInt(rng, -18, 18);
    for (int y = 0; y < hsv.rows; ++y) {
      cv::Vec3b* row = hsv.ptr<cv::Vec3b>(y);
      for (int x = 0; x < hsv.cols; ++x)
        row[x][0] = static_cast<uint8_t>(((row[x][0] + delta) % 180 + 180) % 180);
    }
    cv::cvtColor(hsv, image, cv::COLOR_HSV2BGR);
  }
  if (mode == 0) contrast();
}

void PadTo(LabeledImage& sample, cv::Size size, const cv::Scalar& image_value) {
  const int bottom = std::max(size.height - sample.image.rows, 0);
  const int right = std::max(size.width - sample.image.cols, 0);
  if (bottom == 0 && right == 0) return;
  cv::copyMakeBorder(sample.image, sample.image, 0, bottom, 0, right, cv::BORDER_CONSTANT,
                     image_value);
  if (!sample.label.empty()) {
    cv::copyMakeBorder(sample.label, sample.label, 0, bottom, 0, right, cv::BORDER_CONSTANT,
                       cv::Scalar(255));
  }
}

namespace {

LabeledImage OriginalPipeline(LabeledImage s, const TrainPipelineConfig& c, Rng& rng) {
  const double scale = Uniform(rng, c.ratio_lo, c.ratio_hi);
  const double aspect = Uniform(rng, 0.9, 1.1);
  const cv::Size size(static_cast<int>(s.image.cols * std::sqrt(aspect) * scale),
                      static_cast<int>(s.image.rows / std::sqrt(aspect) * scale));
  cv::resize(s.image, s.image, size, 0, 0, cv::INTER_CUBIC);
  cv::resize(s.label, s.label, size, 0, 0, cv::INTER_NEAREST);
  const cv::Rect box = DrawCrop(s.image.size(), c.crop, rng);
  s.image = s.image(box).clone();
  s.label = s.label(box).clone();
  Convert(s.image, 1.0, Uniform(rng, -10, 10));
  RandomFlip(s, c.flip_prob, rng);
  // Pad at a random offset (torchcv's "only_pad", pad_mode random).
  const int pad_h = std::max(c.crop.height - s.image.rows, 0);
  const int pad_w = std::max(c.crop.width - s.image.cols, 0);
  if (pad_h > 0 || pad_w > 0) {
    const int top = RandInt(rng, 0, pad_h + 1);
    const int left = RandInt(rng, 0, pad_w + 1);
    cv::copyMakeBorder(s.image, s.image, top, pad_h - top, left, pad_w - left, cv::BORDER_CONSTANT,
                       cv::Scalar(103, 116, 123));
    cv::copyMakeBorder(s.label, s.label, top, pad_h - top, left, pad_w - left, cv::BORDER_CONSTANT,
                       cv::Scalar(255));
  }
  return s;
}

}  // namespace

LabeledImage ApplyTrainPipeline(LabeledImage sample, const TrainPipelineConfig& config, Rng& rng) {
  if (config.variant == Variant::kOriginal) {
    return OriginalPipeline(std::move(sample), config, rng);
  }
  RandomResize(sample, config.scale, config.ratio_lo, config.ratio_hi, rng);
  RandomCrop(sample, config.crop, config.cat_max_ratio, rng);
  RandomFlip(sample, config.flip_prob, rng);
  if (config.photometric) PhotoMetricDistortion(sample.image, rng);
  PadTo(sample, config.crop);
  return sample;
}

uint64_t MixSeed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
  auto mix = [](uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  uint64_t h = mix(seed);
  h = mix(h ^ a);
  h = mix(h ^ b);
  h = mix(h ^ c);
  return h;
}

}  // namespace ann
