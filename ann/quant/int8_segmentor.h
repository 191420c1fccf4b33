// int8 inference of the segmentor: post-training static quantization of the inference form
// (BatchNorm folded, the AFNB / APNB bottleneck fused with the attention's output projection),
// executed with LibTorch's quantized operators on its `onednn` engine (AVX512-VNNI, AVX-VNNI or
// AMX-INT8 tiles):
//  - every convolution of the backbone and the head runs in int8, weights per output channel
//    (symmetric), activations per tensor (uint8, from calibration), ReLU fused into it;
//  - the residual sums run as quantized add + ReLU, the stem's max pooling on uint8;
//  - kept in float: the attention (pyramid pooling, the key/query product, softmax, the value
//    product: they quantize badly and cost little), the classifier and the logits' resize.
//
//   Int8Segmentor engine(model);                 // the model becomes its fp32 inference form
//   for (x : calibration inputs) engine.Observe(x);
//   WriteCalibration(path, engine.calibration());
//   engine.Quantize(calibration, Observer::kMinMax);
//   torch::Tensor logits = engine.Predict(x);    // as EncoderDecoder::Predict
#ifndef ANN_QUANT_INT8_SEGMENTOR_H_
#define ANN_QUANT_INT8_SEGMENTOR_H_

#include <map>
#include <memory>
#include <string>

#include "ann/model/segmentor.h"
#include "ann/quant/calibration.h"
#include "torch/torch.h"

namespace ann {

class Int8Segmentor {
 public:
  // Turns `model` (loaded; shared, not copied) into its fp32 inference form.
  explicit Int8Segmentor(EncoderDecoder model);
  ~Int8Segmentor();

  // The fp32 inference form's forward (as --precision=fp32), recording the range of every
  // tensor the int8 forward quantizes: one calibration image.
  torch::Tensor Observe(const torch::Tensor& input);
  // What Observe saw so far (checkpoint_sha256 left for the caller).
  const Calibration& calibration() const { return observed_; }

  // Prepares the int8 forward: weights quantized and packed, activation parameters from
  // `calibration` under `observer`. Throws (one line) if the calibration lacks a tensor.
  void Quantize(const Calibration& calibration, Observer observer);

  // Logits [N, K, H, W] float32 at the input's size, in int8 (after Quantize).
  torch::Tensor Predict(const torch::Tensor& input);

 private:
  class Walker;
  struct Int8State;  // activation parameters and packed weights
  EncoderDecoder model_;
  Calibration observed_;
  std::unique_ptr<Int8State> int8_;
};

}  // namespace ann

#endif  // ANN_QUANT_INT8_SEGMENTOR_H_
