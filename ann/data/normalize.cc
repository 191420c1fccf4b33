#include "ann/data/normalize.h"

namespace ann {

NormalizeParams DefaultNormalizeParams(Variant variant) {
  NormalizeParams params;
  if (variant == Variant::kOriginal) {
    // torchcv feeds BGR 0..255 minus the BGR mean, unit std. The mean is the one in their
    // hypes json to the last digit: a rounded mean moves the logits by about 1e-2 (relative).
    params.mean = {102.9801, 115.9465, 122.7717};
    params.std = {1.0, 1.0, 1.0};
    params.to_rgb = false;
  }
  return params;
}

void NormalizeInto(const cv::Mat& image, const NormalizeParams& params, float* dst) {
  CV_Assert(image.type() == CV_8UC3);
  const int plane = image.rows * image.cols;
  for (int c = 0; c < 3; ++c) {
    const int src_channel = params.to_rgb ? 2 - c : c;
    const float mean = static_cast<float>(params.mean[c]);
    const float std = static_cast<float>(params.std[c]);
    float* out = dst + c * plane;
    for (int y = 0; y < image.rows; ++y) {
      const uint8_t* row = image.ptr<uint8_t>(y);
      for (int x = 0; x < image.cols; ++x) {
        *out++ = (static_cast<float>(row[3 * x + src_channel]) - mean) / std;
      }
    }
  }
}

torch::Tensor NormalizeImage(const cv::Mat& image, const NormalizeParams& params) {
  torch::Tensor x = torch::empty({1, 3, image.rows, image.cols}, torch::kFloat32);
  NormalizeInto(image, params, x.data_ptr<float>());
  return x;
}

}  // namespace ann
