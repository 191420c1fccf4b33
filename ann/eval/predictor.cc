#include "ann/eval/predictor.h"

#include "ann/io/image.h"

namespace ann {

Predictor::Predictor(EncoderDecoder model) : model_(std::move(model)) { model_->eval(); }

torch::Tensor Predictor::Logits(const cv::Mat& image_bgr) {
  torch::InferenceMode guard;
  torch::Tensor input = NormalizeImage(ImageToTensor(image_bgr), model_->config());
  return model_->Predict(input)[0].contiguous();
}

torch::Tensor Predictor::Labels(const torch::Tensor& logits) {
  return logits.argmax(/*dim=*/0).to(torch::kUInt8);
}

}  // namespace ann
